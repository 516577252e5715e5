// Starts the oracle's two servers (test/oracle/mirror.ts) and keeps them up, printing how to connect:
// for exploring a difference by hand, and for capturing client traffic (capture-clients.ts).
import { startMirror } from '../oracle/mirror';

async function main(): Promise<void> {
  const m = await startMirror();
  console.log(`segtasks:   ${m.server.dsn}`);
  console.log(`postgresql: host=127.0.0.1 port=${m.theirs.port} user=admin dbname=segtasks`);
  const stop = () => void m.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
