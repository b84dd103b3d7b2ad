import { PrerequisiteError } from '../errors.ts';
import type { Target } from './target.ts';

// Placeholder while the docker target is being built (see issue 2 notes).
export class DockerTarget implements Partial<Target> {
  readonly name = 'docker' as const;
  async checkPrerequisites(): Promise<void> {
    throw new PrerequisiteError('the docker target is not built yet: use --target local');
  }
}
