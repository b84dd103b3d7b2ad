import { runService } from '@imslab/app-server';
import { parseVoicemailConfig } from './config.ts';
import { Voicemail } from './voicemail.ts';

runService('voicemail', process.argv.slice(2), parseVoicemailConfig, (cfg) => Voicemail.start(cfg));
