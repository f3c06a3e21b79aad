// One ADS client in a process of its own (test/xds/load.test.ts freezes it with SIGSTOP):
//   node --import tsx test/xds/client-process.ts HOST:PORT NODE_ID RESOURCE
// Prints "received <version>" for each configuration it ACKs.
import { AdsClient } from './clients.ts';

const [address, nodeId, resource] = process.argv.slice(2) as [string, string, string];
const client = new AdsClient(address, nodeId, resource);
let seen = 0;
setInterval(() => {
  for (; seen < client.received.length; seen++) process.stdout.write(`received ${client.received[seen]!.version}\n`);
  if (client.closed) process.exit(0);
}, 20);
