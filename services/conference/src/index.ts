export { ConferenceServer, FACTORY_USER } from './conference-server.ts';
export { parseConferenceConfig, type ConferenceServerConfig, type ConferenceMode } from './config.ts';
export { Bridge } from './bridge.ts';
export { mixFor, ulawDecode, ulawEncode, decodeFrame, encodeFrame, markerOffset } from './mixer.ts';
