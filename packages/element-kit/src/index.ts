/**
 * @imslab/element-kit: what every TypeScript element shares: strict
 * configuration files, the process main, the log line format, the HTTP/JSON
 * control server.
 */
export { FileError, checkStrict, closest, loadJsonStrict, loadYamlStrict, parseYamlStrict, strictObject, type FileProblem } from './strict.ts';
export { EXIT, runElement } from './main.ts';
export { ElementLogger } from './log.ts';
export { ControlServer, HttpError, MAX_CONTROL_BODY, startBoth, type ControlRoute, type ControlServerOptions } from './control-server.ts';
