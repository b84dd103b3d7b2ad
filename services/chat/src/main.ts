import { runElement } from '@imslab/element-kit';
import { ChatServer } from './chat-server.ts';
import { ChatConfigSchema } from './config.ts';

runElement('chat', process.argv.slice(2), ChatConfigSchema, (cfg) => ChatServer.start(cfg));
