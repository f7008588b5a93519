// The script runner: the case's script in the person's language, one control per shown
// question (show_if branching hides the others), required questions marked in words.
import type { AnswerDto } from "./bindings/AnswerDto";
import type { QuestionDto } from "./bindings/QuestionDto";
import type { ScriptDto } from "./bindings/ScriptDto";
import { formatLanguage, pickedDay } from "./format";
import { visibleQuestions, type Answers } from "./scriptModel";

export function ScriptRunner({
  script,
  answers,
  onChange,
  missing,
}: {
  script: ScriptDto;
  answers: Answers;
  onChange: (answers: Answers) => void;
  /** Ids of required questions left unanswered, shown after a submit attempt. */
  missing: readonly string[];
}) {
  const set = (id: string, answer: AnswerDto | undefined) => {
    const next = { ...answers };
    if (answer === undefined) delete next[id];
    else next[id] = answer;
    onChange(next);
  };
  return (
    <section className="panel" aria-labelledby="script-title" lang={script.language} data-testid="script-runner">
      <h3 id="script-title">
        {script.title.text} <span className="muted">({formatLanguage(script.language)})</span>
      </h3>
      <p className="script-intro" data-testid="script-intro">
        {script.introduction.text}
      </p>
      {visibleQuestions(script, answers).map((q) => (
        <Question key={q.id} question={q} answer={answers[q.id]} onAnswer={(a) => set(q.id, a)} missing={missing.includes(q.id)} />
      ))}
    </section>
  );
}

function Question({
  question: q,
  answer,
  onAnswer,
  missing,
}: {
  question: QuestionDto;
  answer: AnswerDto | undefined;
  onAnswer: (answer: AnswerDto | undefined) => void;
  missing: boolean;
}) {
  const id = `q-${q.id}`;
  const label = (
    <>
      {q.text.text}
      {q.required && <span className="required"> (required)</span>}
    </>
  );
  const problem = missing ? (
    <p className="error-text" id={`${id}-problem`}>
      This question needs an answer.
    </p>
  ) : null;
  const describedBy = missing ? `${id}-problem` : undefined;
  const common = { "data-question-id": q.id, "data-kind": q.kind, className: `question${missing ? " invalid" : ""}` };

  switch (q.kind) {
    case "yes_no":
    case "single_choice": {
      const options = q.kind === "yes_no" ? [{ value: "yes", text: { text: "Yes" } }, { value: "no", text: { text: "No" } }] : q.options;
      const current = answer?.kind === "yes_no" ? (answer.value ? "yes" : "no") : answer?.kind === "choice" ? answer.value : "";
      return (
        <fieldset {...common} aria-describedby={describedBy}>
          <legend>{label}</legend>
          {options.map((o) => (
            <label key={o.value} className="choice">
              <input
                type="radio"
                name={id}
                value={o.value}
                checked={current === o.value}
                onChange={() => onAnswer(q.kind === "yes_no" ? { kind: "yes_no", value: o.value === "yes" } : { kind: "choice", value: o.value })}
              />
              {o.text.text}
            </label>
          ))}
          {problem}
        </fieldset>
      );
    }
    case "multiple_choice": {
      const selected = answer?.kind === "choices" ? answer.value : [];
      return (
        <fieldset {...common} aria-describedby={describedBy}>
          <legend>{label}</legend>
          {q.options.map((o) => (
            <label key={o.value} className="choice">
              <input
                type="checkbox"
                value={o.value}
                checked={selected.includes(o.value)}
                onChange={(e) => {
                  const next = e.target.checked ? [...selected, o.value] : selected.filter((v) => v !== o.value);
                  onAnswer(next.length ? { kind: "choices", value: next } : undefined);
                }}
              />
              {o.text.text}
            </label>
          ))}
          {problem}
        </fieldset>
      );
    }
    case "scale": {
      const min = q.min ?? 0;
      const max = q.max ?? 10;
      const values = Array.from({ length: max - min + 1 }, (_, i) => min + i);
      return (
        <div {...common}>
          <label htmlFor={id}>{label}</label>
          <select
            id={id}
            aria-describedby={describedBy}
            value={answer?.kind === "scale" ? String(answer.value) : ""}
            onChange={(e) => onAnswer(e.target.value === "" ? undefined : { kind: "scale", value: Number(e.target.value) })}
          >
            <option value="">Choose…</option>
            {values.map((v) => (
              <option key={v} value={v}>
                {v}
                {v === min && q.min_label ? ` – ${q.min_label.text}` : ""}
                {v === max && q.max_label ? ` – ${q.max_label.text}` : ""}
              </option>
            ))}
          </select>
          {problem}
        </div>
      );
    }
    case "date":
      return (
        <div {...common}>
          <label htmlFor={id}>{label}</label>
          <input
            id={id}
            type="date"
            aria-describedby={describedBy}
            value={answer?.kind === "date" ? answer.value : ""}
            onChange={(e) => onAnswer(e.target.value ? { kind: "date", value: e.target.value } : undefined)}
          />
          <span className="picked-day" aria-live="polite">{pickedDay(answer?.kind === "date" ? answer.value : "")}</span>
          {problem}
        </div>
      );
    case "free_text":
      return (
        <div {...common}>
          <label htmlFor={id}>{label}</label>
          <textarea
            id={id}
            rows={2}
            aria-describedby={describedBy}
            value={answer?.kind === "text" ? answer.value : ""}
            onChange={(e) => onAnswer(e.target.value ? { kind: "text", value: e.target.value } : undefined)}
          />
          {problem}
        </div>
      );
  }
}
