import { forkHarnessModule } from './child-process';

export interface Reaper {
  /** A process group (a detached child's pid) to stop should the starter die. */
  watch(group: number): void;
  /** Everything was stopped in order: nothing is left to reap. */
  release(): void;
}

/**
 * Parts run in process groups of their own, so that the starter decides the order in which they
 * stop; the cost is that nothing stops them when the starter dies without that order. The reaper,
 * a small process of its own, notices the starter's death by its IPC channel closing.
 */
export function startReaper(): Reaper {
  const child = forkHarnessModule('embedded/part-reaper', process.env, ['ignore', 'ignore', 'inherit', 'ipc']);
  // It must not keep the starter alive, nor block its exit.
  child.unref();
  child.channel?.unref();
  return {
    watch: (group) => child.send({ group }),
    release: () => {
      if (child.connected) child.send('released', () => child.disconnect());
    },
  };
}
