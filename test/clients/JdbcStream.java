// Reads a large result through pgjdbc's setFetchSize (autocommit off: Execute with maxRows, PortalSuspended,
// more Executes) and prints what it saw, one "key=value" per line; with a stop row it closes the result set
// there (the portal is abandoned) and runs one more query on the same connection.
// usage: java -cp /usr/share/java/postgresql.jar JdbcStream.java PORT USER PASSWORD DATABASE FETCH_SIZE SQL [STOP_ROW]
import java.sql.*;
import java.util.*;

public class JdbcStream {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/" + args[3];
        Properties p = new Properties();
        p.setProperty("user", args[1]);
        p.setProperty("password", args[2]);
        long stop = args.length > 6 ? Long.parseLong(args[6]) : Long.MAX_VALUE;
        try (Connection c = DriverManager.getConnection(url, p)) {
            c.setAutoCommit(false);
            long t0 = System.nanoTime();
            long rows = 0, sum = 0, first = -1;
            try (Statement st = c.createStatement()) {
                st.setFetchSize(Integer.parseInt(args[4]));
                try (ResultSet rs = st.executeQuery(args[5])) {
                    while (rs.next()) {
                        if (first < 0) first = System.nanoTime() - t0;
                        rows++;
                        sum += rs.getLong(1);
                        if (rs.getString(2) == null) throw new RuntimeException("null column 2");
                        if (rows >= stop) break;
                    }
                }
            }
            c.commit();
            long total = System.nanoTime() - t0;
            System.out.println("rows=" + rows);
            System.out.println("sum=" + sum);
            System.out.println("first_ms=" + (first / 1e6));
            System.out.println("total_ms=" + (total / 1e6));
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1 + 1")) {
                rs.next();
                System.out.println("after=" + rs.getInt(1));
            }
        }
    }
}
