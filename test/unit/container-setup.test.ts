import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';

const projectRoot = path.join(__dirname, '..', '..');
const hasCompose =
  spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0 ||
  spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;

describe('container setup', () => {
  it('docker-compose.yml and the container scripts are valid', { skip: hasCompose ? false : 'no docker-compose here (.ci/run installs it)' }, () => {
    const result = spawnSync('bash', ['scripts/validate-compose.sh'], { cwd: projectRoot, encoding: 'utf8' });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  });
});
