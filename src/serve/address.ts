// Moved to src/address.ts (one set of address parsers for every command); kept for the modules that
// still import it from here.
export { formatListen, parseListen, parseServiceUrl, type HostPort as ListenAddress } from '../address.ts';
