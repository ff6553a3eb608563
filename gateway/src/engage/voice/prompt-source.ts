/** Audio prompts for voice calls, as the voice channel and the TwiML webhook need them. */
export interface PromptSource {
  /**
   * Makes sure a prompt for `text` in `language` exists (generated once, then cached), or uses the
   * integrator's WAV `file`. Resolves to the prompt's id, or undefined when no audio can be had
   * (then the call falls back to <Say>). Never rejects.
   */
  prepare(text: string, language: string, file?: string): Promise<string | undefined>;
  /** A URL for the provider to fetch the prompt, signed and valid for the configured lifetime from `now`. */
  url(id: string, now: number): string;
}
