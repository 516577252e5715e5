// pgjdbc DatabaseMetaData against the server, as DBeaver / Metabase use it. Prints "key=value" lines.
// usage: java -cp /usr/share/java/postgresql.jar JdbcMetadata.java PORT PASSWORD
import java.sql.*;
import java.util.*;

public class JdbcMetadata {
    static String list(ResultSet rs, String... cols) throws SQLException {
        List<String> out = new ArrayList<>();
        while (rs.next()) {
            List<String> row = new ArrayList<>();
            for (String c : cols) row.add(String.valueOf(rs.getObject(c)));
            out.add(String.join(":", row));
        }
        rs.close();
        return String.join(",", out);
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/segtasks";
        try (Connection c = DriverManager.getConnection(url, "admin", args[1])) {
            DatabaseMetaData md = c.getMetaData();
            System.out.println("schemas=" + list(md.getSchemas(), "TABLE_SCHEM"));
            System.out.println("tables=" + list(md.getTables(null, "sys", "%", new String[] {"TABLE"}), "TABLE_NAME"));
            System.out.println("columns=" + list(md.getColumns(null, "sys", "tasks", "%"), "COLUMN_NAME", "TYPE_NAME", "DATA_TYPE"));
            System.out.println("pk=" + list(md.getPrimaryKeys(null, "sys", "segments"), "COLUMN_NAME", "PK_NAME"));
            System.out.println("indexes=" + list(md.getIndexInfo(null, "sys", "tasks", false, false), "INDEX_NAME", "COLUMN_NAME", "NON_UNIQUE"));
            ResultSet types = md.getTypeInfo();
            int n = 0;
            while (types.next()) n++;
            System.out.println("typeinfo=" + n);
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT id, created_at, bytes_total, fraction_complete, status FROM sys.tasks")) {
                ResultSetMetaData r = rs.getMetaData();
                List<String> cols = new ArrayList<>();
                for (int i = 1; i <= r.getColumnCount(); i++) cols.add(r.getColumnName(i) + ":" + r.getColumnTypeName(i) + ":" + r.getColumnType(i));
                System.out.println("rsmd=" + String.join(",", cols));
            }
            try (Statement st = c.createStatement()) {
                int u = st.executeUpdate("CREATE TASK jdbc_task TYPE check_disk");
                System.out.println("executeUpdate=" + u);
            }
        }
    }
}
