// Public surface of the bindings. The entry file re-exports `./exports` and the allocators.
export * from "./enums";
export * from "./context";
export * from "./host";
export { Bytes, bytesEqual, releaseHostBuffer } from "./memory";
export { serializePairs } from "./pairs";
