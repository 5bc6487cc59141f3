// Forked by `npm start` (see reaper.ts) into a process group of its own. The starter tells it the
// process group of every part it starts; if the starter goes away without saying "released"
// (kill -9, a crash, the out-of-memory killer), this process stops those groups, so no part
// outlives its starter or keeps its port.

/** How long a part gets to stop on SIGTERM before it is killed: ports must be free within seconds. */
const GRACE_MS = 5_000;

const groups = new Set<number>();
let released = false;

const alive = (group: number): boolean => {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
};

const signal = (group: number, name: NodeJS.Signals): void => {
  try {
    process.kill(-group, name);
  } catch {
    // Already gone.
  }
};

async function reap(): Promise<void> {
  const left = () => [...groups].filter(alive);
  if (left().length > 0) console.error('npm start is gone: stopping the parts it started');
  for (const group of left()) signal(group, 'SIGTERM');
  const deadline = Date.now() + GRACE_MS;
  while (left().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  for (const group of left()) signal(group, 'SIGKILL');
}

process.on('message', (message: unknown) => {
  if (message === 'released') released = true;
  else if (typeof message === 'object' && message !== null && 'group' in message) groups.add(Number(message.group));
});
process.once('disconnect', () => {
  if (released) process.exit(0);
  void reap().finally(() => process.exit(0));
});
// Its starter decides when it ends; signals meant for the terminal's group do not reach it anyway.
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
