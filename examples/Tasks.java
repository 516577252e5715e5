// Run with: java -cp /usr/share/java/postgresql.jar examples/Tasks.java   (PGPASSWORD in the environment)
import java.sql.*;

public class Tasks {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:5433/segtasks";
        try (Connection c = DriverManager.getConnection(url, "admin", System.getenv("PGPASSWORD"));
             PreparedStatement ps = c.prepareStatement("SELECT name, type, status, fraction_complete FROM sys.tasks WHERE type = ?")) {
            ps.setString(1, args.length > 0 ? args[0] : "check_disk");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    System.out.printf("%s %s %s %.0f%%%n", rs.getString(1), rs.getString(2), rs.getString(3), rs.getDouble(4) * 100);
                }
            }
        }
    }
}
