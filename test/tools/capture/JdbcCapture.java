// pgjdbc DatabaseMetaData calls, for capture through the logging proxy.
// usage: java -cp /usr/share/java/postgresql.jar JdbcCapture.java PORT
import java.sql.*;

public class JdbcCapture {
    static void count(String what, ResultSet rs) throws SQLException {
        int n = 0;
        while (rs.next()) n++;
        rs.close();
        System.out.println(what + "=" + n);
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/segtasks";
        try (Connection c = DriverManager.getConnection(url, "admin", "x")) {
            DatabaseMetaData md = c.getMetaData();
            count("schemas", md.getSchemas());
            count("catalogs", md.getCatalogs());
            count("tableTypes", md.getTableTypes());
            count("tables", md.getTables(null, "sys", "%", new String[] {"TABLE"}));
            count("allTables", md.getTables(null, null, "%", null));
            count("columns", md.getColumns(null, "sys", "tasks", "%"));
            count("pk", md.getPrimaryKeys(null, "sys", "segments"));
            count("imported", md.getImportedKeys(null, "sys", "subtasks"));
            count("exported", md.getExportedKeys(null, "sys", "tasks"));
            count("cross", md.getCrossReference(null, "sys", "tasks", null, "sys", "subtasks"));
            count("indexes", md.getIndexInfo(null, "sys", "tasks", false, false));
            count("bestRow", md.getBestRowIdentifier(null, "sys", "tasks", DatabaseMetaData.bestRowSession, true));
            count("typeinfo", md.getTypeInfo());
            count("functions", md.getFunctions(null, "pg_catalog", "version"));
            count("procedures", md.getProcedures(null, "sys", "%"));
            count("tablePrivileges", md.getTablePrivileges(null, "sys", "tasks"));
            try (PreparedStatement ps = c.prepareStatement("SELECT id, status, bytes_total FROM sys.tasks WHERE status = ?")) {
                ps.setString(1, "COMPLETE");
                ResultSet rs = ps.executeQuery();
                ResultSetMetaData r = rs.getMetaData();
                for (int i = 1; i <= r.getColumnCount(); i++) r.getTableName(i);
                count("query", rs);
            }
        }
    }
}
