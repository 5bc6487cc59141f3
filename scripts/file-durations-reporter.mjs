// A node:test reporter that names each test file's wall time as it ends, and lists them
// slowest first at the end, so CI's log shows where the suite spends its time.
import process from 'node:process';

export default async function* fileDurations(source) {
  const durations = [];
  // npm test runs one file at a time, so a file's wall time, start-up included, is the time since
  // the previous one ended.
  let lastEndedAt = Date.now();
  for await (const event of source) {
    if (event.type !== 'test:summary') continue;
    const { file, counts } = event.data;
    if (file === undefined) {
      yield '\nfile durations, slowest first:\n';
      for (const [name, ms] of durations.sort((a, b) => b[1] - a[1])) yield `${seconds(ms)}  ${name}\n`;
      yield `${seconds(durations.reduce((sum, [, ms]) => sum + ms, 0))}  all ${durations.length} files\n`;
    } else {
      const name = file.replace(`${process.cwd()}/`, '');
      const ms = Date.now() - lastEndedAt;
      lastEndedAt = Date.now();
      durations.push([name, ms]);
      yield `# ${name}: ${seconds(ms)}, ${counts.passed} passed, ${counts.failed} failed\n`;
    }
  }
}

const seconds = (ms) => `${(ms / 1000).toFixed(1).padStart(7)} s`;
