// Public surface of the bindings. The entry file re-exports `./exports` and the allocators.
export * from "./enums";
export * from "./context";
export * from "./host";
export { CallReceiver, httpCall } from "./callouts";
export { Bytes, bytesEqual, releaseHostBuffer, writeAscii } from "./memory";
export { serializePairs } from "./pairs";
