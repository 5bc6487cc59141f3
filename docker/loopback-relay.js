'use strict';
// The tester's object service (src/tester/object-service.ts) listens on 127.0.0.1 only, which
// workers in other containers cannot reach. This forwards the same port on the container's own
// network addresses to it. It waits for the service first, so that if the tester ever listens on
// every interface itself, the port is already taken and this steps aside.
const net = require('node:net');
const os = require('node:os');

const port = Number(process.argv[2] || 9010);
const target = { host: '127.0.0.1', port };
const log = (message) => console.log(JSON.stringify({ name: 'loopback-relay', msg: message }));

const externalAddresses = () =>
  Object.values(os.networkInterfaces())
    .flat()
    .filter((entry) => entry && !entry.internal && !(entry.family === 'IPv6' && entry.address.startsWith('fe80')))
    .map((entry) => entry.address);

function relay(address) {
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.pipe(upstream).pipe(client);
  });
  server.on('error', (error) => {
    log(error.code === 'EADDRINUSE' ? `${address}:${port} is already served, not relaying` : `${address}:${port}: ${error.message}`);
    server.close();
  });
  server.listen(port, address, () => log(`${address}:${port} -> 127.0.0.1:${port}`));
}

(function waitForTarget() {
  const probe = net.connect(target, () => {
    probe.destroy();
    externalAddresses().forEach(relay);
  });
  probe.on('error', () => setTimeout(waitForTarget, 200));
})();
