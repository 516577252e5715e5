// drizzle-kit pull configuration for capture: the port comes from the environment.
module.exports = {
  dialect: 'postgresql',
  out: process.env.DRIZZLE_OUT,
  schemaFilter: ['sys'],
  dbCredentials: {
    host: '127.0.0.1',
    port: Number(process.env.DRIZZLE_PORT),
    user: 'admin',
    password: 'x',
    database: 'segtasks',
    ssl: false,
  },
};
