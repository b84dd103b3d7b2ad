import { runElement } from '@imslab/element-kit';
import { VoicemailConfigSchema } from './config.ts';
import { Voicemail } from './voicemail.ts';

runElement('voicemail', process.argv.slice(2), VoicemailConfigSchema, (cfg) => Voicemail.start(cfg));
