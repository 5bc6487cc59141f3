// Runs one entry point of the build (`npm run api`, `worker`), or says how to make it:
// these commands never rebuild, so a running system's dist/ is not rewritten under it.
const { existsSync } = require('node:fs');
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', `${process.argv[2]}.js`);
if (!existsSync(entry)) {
  console.error(
    `${path.relative(process.cwd(), entry)} does not exist: run \`npm run build\` first (npm start builds by itself).`,
  );
  process.exit(1);
}
require(entry);
