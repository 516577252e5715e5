// Drives pgjdbc against the server and prints what it saw, one "key=value" per line.
// usage: java -cp /usr/share/java/postgresql.jar JdbcClient.java PORT PASSWORD
import java.sql.*;
import java.util.*;

public class JdbcClient {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/segtasks";
        Properties p = new Properties();
        p.setProperty("user", "admin");
        p.setProperty("password", args[1]);
        try (Connection c = DriverManager.getConnection(url, p)) {
            System.out.println("product=" + c.getMetaData().getDatabaseProductName() + " " + c.getMetaData().getDatabaseProductVersion());
            // One prepared statement run 7 times: pgjdbc names it S_n after 5 runs and then asks for binary results.
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT ?::int4 * 2 AS dbl, now() AS at, count(*) AS n, 2.5::float8 AS f, true AS b, "
                    + "'6f1c0000-0000-4000-8000-000000000001'::uuid AS u FROM sys.tasks WHERE status <> ?")) {
                StringBuilder sb = new StringBuilder();
                for (int i = 1; i <= 7; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "NONE");
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        sb.append(rs.getInt("dbl")).append(',');
                        if (rs.getTimestamp("at") == null) throw new RuntimeException("null timestamp");
                        if (rs.getLong("n") != 0) throw new RuntimeException("count");
                        if (rs.getDouble("f") != 2.5) throw new RuntimeException("float " + rs.getDouble("f"));
                        if (!rs.getBoolean("b")) throw new RuntimeException("bool");
                        if (!rs.getObject("u").toString().equals("6f1c0000-0000-4000-8000-000000000001")) throw new RuntimeException("uuid " + rs.getObject("u"));
                    }
                }
                System.out.println("repeated=" + sb);
            }
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT id, created_at, bytes_total, fraction_complete, options FROM sys.tasks")) {
                ResultSetMetaData md = rs.getMetaData();
                StringBuilder sb = new StringBuilder();
                for (int i = 1; i <= md.getColumnCount(); i++) sb.append(md.getColumnTypeName(i)).append(',');
                System.out.println("types=" + sb);
            }
            // setFetchSize with autocommit off: Execute with maxRows, PortalSuspended, then more Executes.
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.setFetchSize(10);
                int rows = 0;
                long sum = 0;
                try (ResultSet rs = st.executeQuery("SELECT value FROM generate_series(1, 95) AS g(value)")) {
                    while (rs.next()) {
                        rows++;
                        sum += rs.getLong(1);
                    }
                }
                System.out.println("fetched=" + rows + ":" + sum);
            }
            try (Statement st = c.createStatement()) {
                st.executeQuery("SELECT nope FROM sys.tasks");
            } catch (SQLException e) {
                System.out.println("error=" + e.getSQLState());
            }
            try (Statement st = c.createStatement()) {
                st.executeQuery("SELECT 1");
            } catch (SQLException e) {
                System.out.println("in_failed_tx=" + e.getSQLState());
            }
            c.rollback();
            c.setAutoCommit(true);
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 'ok'")) {
                rs.next();
                System.out.println("after=" + rs.getString(1));
            }
        }
    }
}
