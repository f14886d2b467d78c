/**
 * The one Generate question open at a time (ConfirmGenerate, rendered once by the studio shell): whoever asks
 * awaits the answer, so the top bar, the inspectors and the track headers share one dialog and one code path.
 */
import type { GenerateAnswer, GenerateQuestion } from './generation-actions.ts';

/** The open question and how to answer it. */
export class GenerateQuestionState {
  /** The question on screen; null when none is. */
  current = $state.raw<GenerateQuestion | null>(null);
  #resolve: ((answer: GenerateAnswer | null) => void) | null = null;

  /** Shows `question`; resolves to the answer, or null when cancelled (or replaced by a newer question). */
  ask(question: GenerateQuestion): Promise<GenerateAnswer | null> {
    this.answer(null);
    this.current = question;
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Closes the question with `answer` (null: cancelled). */
  answer(answer: GenerateAnswer | null): void {
    const resolve = this.#resolve;
    this.#resolve = null;
    this.current = null;
    resolve?.(answer);
  }
}
