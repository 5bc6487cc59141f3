import { spawn } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { objectPresenceWorkflow, sightedSignal } from './src/workflows';
async function main() {
  const extra = process.argv.slice(2);
  const child = spawn('temporal', ['server', 'start-dev', '--headless', '--port', '7998', '--log-level', 'error', ...extra], { stdio: 'inherit' });
  let connection;
  for (;;) { try { connection = await Connection.connect({ address: '127.0.0.1:7998' }); await connection.workflowService.getSystemInfo({}); break; } catch { await new Promise(r => setTimeout(r, 300)); } }
  const client = new Client({ connection });
  for (let round = 0; round < 3; round++) {
    const t = Date.now();
    await Promise.all(Array.from({ length: 200 }, (_, i) => client.workflow.signalWithStart(objectPresenceWorkflow, { workflowId: `o-${round}-${i}`, taskQueue: 'q', args: [{ objectId: i }], signal: sightedSignal, signalArgs: [Date.now()] })));
    console.log(extra.join(' ') || 'default', 'round', round, '200 ids took', Date.now() - t, 'ms');
  }
  child.kill(); process.exit(0);
}
main();
