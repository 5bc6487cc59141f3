// A node:test reporter that prints each test file's wall time as the file ends, so CI's log shows
// where the suite spends its time (grep '^# test/').
import process from 'node:process';

export default async function* fileDurations(source) {
  // npm test runs one file at a time, so a file's wall time, start-up included, is the time since
  // the previous one ended.
  let lastEndedAt = Date.now();
  for await (const event of source) {
    if (event.type !== 'test:summary' || event.data.file === undefined) continue;
    const { file, counts } = event.data;
    const seconds = ((Date.now() - lastEndedAt) / 1000).toFixed(1);
    lastEndedAt = Date.now();
    yield `# ${file.replace(`${process.cwd()}/`, '')}: ${seconds} s, ${counts.passed} passed, ${counts.failed} failed\n`;
  }
}
