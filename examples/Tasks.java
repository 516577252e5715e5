// Run with: java -cp /usr/share/java/postgresql.jar examples/Tasks.java [task type]
// Connects with PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE (defaults: 127.0.0.1:5433, user admin,
// database segtasks).
import java.sql.*;

public class Tasks {
    static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? fallback : v;
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://" + env("PGHOST", "127.0.0.1") + ":" + env("PGPORT", "5433") + "/"
            + env("PGDATABASE", "segtasks");
        try (Connection c = DriverManager.getConnection(url, env("PGUSER", "admin"), System.getenv("PGPASSWORD"));
             PreparedStatement ps = c.prepareStatement("SELECT name, type, status, fraction_complete FROM sys.tasks WHERE type = ?")) {
            ps.setString(1, args.length > 0 ? args[0] : "check_disk");
            try (ResultSet rs = ps.executeQuery()) {
                int n = 0;
                while (rs.next()) {
                    n++;
                    System.out.printf("%s %s %s %.0f%%%n", rs.getString(1), rs.getString(2), rs.getString(3), rs.getDouble(4) * 100);
                }
                if (n == 0) System.out.println("no tasks yet");
            }
        }
    }
}
