// pgjdbc DatabaseMetaData key and column calls on schema sys, every column of every row printed, one result
// per line as "name=<rows joined by ';', columns by '|'>", so that the test can compare segtasks with a real
// PostgreSQL 15 holding the same tables.
// usage: java -cp /usr/share/java/postgresql.jar JdbcKeys.java PORT USER PASSWORD
import java.sql.*;
import java.util.*;

public class JdbcKeys {
    static String rows(ResultSet rs) throws SQLException {
        ResultSetMetaData m = rs.getMetaData();
        List<String> out = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= m.getColumnCount(); i++) names.add(m.getColumnLabel(i));
        out.add(String.join("|", names));
        while (rs.next()) {
            List<String> row = new ArrayList<>();
            for (int i = 1; i <= m.getColumnCount(); i++) row.add(String.valueOf(rs.getObject(i)));
            out.add(String.join("|", row));
        }
        rs.close();
        return String.join(";", out);
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/segtasks";
        try (Connection c = DriverManager.getConnection(url, args[1], args[2])) {
            DatabaseMetaData md = c.getMetaData();
            System.out.println("imported_subtasks=" + rows(md.getImportedKeys(null, "sys", "subtasks")));
            System.out.println("imported_segments=" + rows(md.getImportedKeys(null, "sys", "segments")));
            System.out.println("exported_tasks=" + rows(md.getExportedKeys(null, "sys", "tasks")));
            System.out.println("exported_segment_groups=" + rows(md.getExportedKeys(null, "sys", "segment_groups")));
            System.out.println("cross=" + rows(md.getCrossReference(null, "sys", "tasks", null, "sys", "subtasks")));
            System.out.println("pk_tasks=" + rows(md.getPrimaryKeys(null, "sys", "tasks")));
            System.out.println("pk_segments=" + rows(md.getPrimaryKeys(null, "sys", "segments")));
            System.out.println("columns_subtasks=" + rows(md.getColumns(null, "sys", "subtasks", "%")));
        }
    }
}
