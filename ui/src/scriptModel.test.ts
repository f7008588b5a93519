// Tests for the script runner's branching and required answers.
import { describe, expect, it } from "vitest";
import { answersToSend, missingRequired, visibleQuestions } from "./scriptModel";
import { SCRIPT } from "./test/fakeBackend";

describe("script model", () => {
  it("shows a branch only when its condition holds", () => {
    expect(visibleQuestions(SCRIPT, {}).map((q) => q.id)).toEqual(["feeling", "pain"]);
    expect(visibleQuestions(SCRIPT, { feeling: { kind: "choice", value: "worse" } }).map((q) => q.id)).toEqual([
      "feeling",
      "worse_how",
      "pain",
    ]);
  });

  it("asks for required answers of shown questions only", () => {
    expect(missingRequired(SCRIPT, {}).map((q) => q.id)).toEqual(["feeling"]);
    expect(missingRequired(SCRIPT, { feeling: { kind: "choice", value: "better" } })).toEqual([]);
    expect(missingRequired(SCRIPT, { feeling: { kind: "choice", value: "worse" }, worse_how: { kind: "text", value: "  " } }).map((q) => q.id)).toEqual([
      "worse_how",
    ]);
  });

  it("sends no answer to a question that is hidden now", () => {
    const answers = { feeling: { kind: "choice", value: "better" }, worse_how: { kind: "text", value: "cough" } } as const;
    expect(answersToSend(SCRIPT, answers)).toEqual({ feeling: { kind: "choice", value: "better" } });
  });

  it("branches on scales and multiple choices", () => {
    const script = {
      ...SCRIPT,
      questions: [
        { ...SCRIPT.questions[2]!, id: "pain" },
        { ...SCRIPT.questions[1]!, id: "high", show_if: { question: "pain", any_of: null, at_least: 2, at_most: null } },
      ],
    };
    expect(visibleQuestions(script, { pain: { kind: "scale", value: 1 } }).map((q) => q.id)).toEqual(["pain"]);
    expect(visibleQuestions(script, { pain: { kind: "scale", value: 2 } }).map((q) => q.id)).toEqual(["pain", "high"]);
  });
});
