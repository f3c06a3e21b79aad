// Real Envoy as a child process, for the tests (test/envoy/harness.ts), the benchmark
// (bench/cases/envoy.ts) and `npm start -- --envoy` (src/demo).
export { adminGet, freePort, parseStats, readStats, sleep, type AdminReply } from './admin.ts';
export { envoyBinary, findEnvoyBinary, ENVOY_INSTALL, type EnvoyBinary } from './binary.ts';
export { translateBootstrap, type BootstrapAddresses } from './bootstrap.ts';
export { launchEnvoy, type LaunchedEnvoy, type LaunchOptions } from './launch.ts';
export { EMPTY_WASM, REPO_ROOT, SERGO_CLI, SERGO_WASM } from './paths.ts';
export { EnvoyProcess, type EnvoyProcessOptions } from './process.ts';
