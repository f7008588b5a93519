// Script runner logic without React: which questions are shown (show_if branching), which
// required answers are missing, and the answers to send (only those of shown questions).
import type { AnswerDto } from "./bindings/AnswerDto";
import type { QuestionDto } from "./bindings/QuestionDto";
import type { ScriptDto } from "./bindings/ScriptDto";
import type { ShowIfDto } from "./bindings/ShowIfDto";

export type Answers = Record<string, AnswerDto>;

function holds(condition: ShowIfDto, answer: AnswerDto | undefined): boolean {
  if (answer === undefined) return false;
  if (condition.any_of) {
    const values = condition.any_of;
    switch (answer.kind) {
      case "yes_no":
        return values.includes(answer.value ? "yes" : "no");
      case "choice":
        return values.includes(answer.value);
      case "choices":
        return answer.value.some((v) => values.includes(v));
      default:
        return false;
    }
  }
  if (answer.kind !== "scale") return false;
  if (condition.at_least !== null && answer.value < condition.at_least) return false;
  if (condition.at_most !== null && answer.value > condition.at_most) return false;
  return condition.at_least !== null || condition.at_most !== null;
}

/** The questions shown given the answers so far, in order (a question hidden hides those that depend on it). */
export function visibleQuestions(script: ScriptDto, answers: Answers): QuestionDto[] {
  const shown = new Set<string>();
  const result: QuestionDto[] = [];
  for (const q of script.questions) {
    const c = q.show_if;
    if (c && !(shown.has(c.question) && holds(c, answers[c.question]))) continue;
    shown.add(q.id);
    result.push(q);
  }
  return result;
}

function isAnswered(answer: AnswerDto | undefined): boolean {
  if (answer === undefined) return false;
  switch (answer.kind) {
    case "choices":
      return answer.value.length > 0;
    case "text":
    case "date":
    case "choice":
      return answer.value.trim() !== "";
    default:
      return true;
  }
}

/** Shown, required questions without an answer. */
export function missingRequired(script: ScriptDto, answers: Answers): QuestionDto[] {
  return visibleQuestions(script, answers).filter((q) => q.required && !isAnswered(answers[q.id]));
}

/** The answers to send: those of shown questions that have an answer. */
export function answersToSend(script: ScriptDto, answers: Answers): Answers {
  const out: Answers = {};
  for (const q of visibleQuestions(script, answers)) {
    const a = answers[q.id];
    if (isAnswered(a)) out[q.id] = a as AnswerDto;
  }
  return out;
}
