// The segment editor (supervisors): edit a definition's JSON, check it with the errors shown
// at their line and column, preview its impact (members added and removed) and only then
// publish it as a new version; the published versions are listed.
import { useCallback, useEffect, useRef, useState } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { PreviewDto } from "./bindings/PreviewDto";
import type { SegmentDefinitionDto } from "./bindings/SegmentDefinitionDto";
import { formatApiError, formatCount, formatDateTime } from "./format";

/** Where a definition error points ("draft:12:5: …"), if it says. */
export function errorPosition(message: string): { line: number; column: number } | null {
  const match = /:(\d+):(\d+):/.exec(message);
  return match ? { line: Number(match[1]), column: Number(match[2]) } : null;
}

/** The character offset of a 1-based line and column in `text`. */
export function offsetOf(text: string, line: number, column: number): number {
  const lines = text.split("\n");
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += (lines[i] as string).length + 1;
  return Math.min(text.length, offset + Math.max(0, column - 1));
}

export function SegmentEditor({ backend }: { backend: Backend }) {
  const [definitions, setDefinitions] = useState<SegmentDefinitionDto[] | null>(null);
  const [selected, setSelected] = useState("");
  const [text, setText] = useState("");
  const [preview, setPreview] = useState<{ text: string; result: PreviewDto } | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const editor = useRef<HTMLTextAreaElement>(null);

  const load = useCallback(
    (keep?: string) =>
      backend.segmentDefinitions().then(
        (list) => {
          setDefinitions(list);
          const current = list.find((d) => d.id === keep) ?? list[0];
          if (current) {
            setSelected(current.id);
            setText(current.text);
          }
        },
        (reason: unknown) => setError(toApiError(reason)),
      ),
    [backend],
  );
  useEffect(() => {
    void load();
  }, [load]);

  const choose = (id: string) => {
    const d = definitions?.find((x) => x.id === id);
    setSelected(id);
    setText(d?.text ?? "");
    setPreview(null);
    setError(null);
    setNotice(null);
  };

  const showError = (reason: unknown) => {
    const e = toApiError(reason);
    setError(e);
    const at = errorPosition(e.message);
    if (at && editor.current) {
      const offset = offsetOf(text, at.line, at.column);
      editor.current.focus();
      editor.current.setSelectionRange(offset, offset);
    }
  };

  const check = () => {
    setBusy(true);
    setError(null);
    setNotice(null);
    const checked = text;
    backend.previewSegment({ text: checked }).then(
      (result) => {
        setBusy(false);
        setPreview({ text: checked, result });
      },
      (reason: unknown) => {
        setBusy(false);
        setPreview(null);
        showError(reason);
      },
    );
  };

  const publish = () => {
    setBusy(true);
    backend.publishSegment({ text }).then(
      (p) => {
        setBusy(false);
        setPreview(null);
        setNotice(`Published ${p.id} version ${p.version}.`);
        void load(p.id);
      },
      (reason: unknown) => {
        setBusy(false);
        showError(reason);
      },
    );
  };

  const current = definitions?.find((d) => d.id === selected);
  const previewed = preview !== null && preview.text === text;
  const at = error ? errorPosition(error.message) : null;

  return (
    <section className="segment-editor" aria-labelledby="segments-title">
      <div className="toolbar">
        <h2 id="segments-title">Segments</h2>
        <div className="field">
          <label htmlFor="segment-choice">Segment</label>
          <select id="segment-choice" value={selected} onChange={(e) => choose(e.target.value)}>
            {definitions?.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name} (v{d.version}
                {d.published ? ", published here" : ", built in"})
              </option>
            ))}
          </select>
        </div>
      </div>
      {notice && (
        <p role="status" className="notice" data-testid="segment-notice">
          {notice}
        </p>
      )}
      {current && current.problems.length > 0 && (
        <div role="alert" className="notice" data-testid="segment-problems">
          {current.problems.map((problem) => (
            <p key={problem}>{problem}</p>
          ))}
        </div>
      )}
      <div className="case-grid">
        <div className="panel">
          <label htmlFor="segment-text" className="field-label">
            Definition (JSON; raise the version to publish)
          </label>
          <textarea
            id="segment-text"
            ref={editor}
            className="code"
            rows={24}
            spellCheck={false}
            value={text}
            aria-invalid={error !== null}
            aria-describedby={error ? "segment-error" : undefined}
            onChange={(e) => setText(e.target.value)}
          />
          {error && (
            <p role="alert" className="error-text" id="segment-error" data-testid="segment-error">
              {at ? `Line ${at.line}, column ${at.column}: ` : ""}
              {formatApiError("The definition has a problem", error)}
            </p>
          )}
          <div className="actions">
            <button type="button" onClick={check} disabled={busy}>
              Check and preview
            </button>
            {busy && (
              <span role="status" className="muted">
                Evaluating the draft on the panel…
              </span>
            )}
            <button type="button" className="primary" onClick={publish} disabled={busy || !previewed} data-testid="publish-segment">
              Publish
            </button>
          </div>
          {!previewed && <p className="hint">Preview the impact before publishing.</p>}
        </div>
        <div>
          {preview && previewed && (
            <section className="panel" aria-labelledby="impact-title" data-testid="segment-impact">
              <h3 id="impact-title">Impact as of {preview.result.as_of}</h3>
              <p>
                Draft v{preview.result.draft_version}: {formatCount(preview.result.draft_count)} members; in force
                {preview.result.published_version !== null ? ` (v${preview.result.published_version})` : ""}:{" "}
                {formatCount(preview.result.published_count)}.
              </p>
              <p>
                <strong>{formatCount(preview.result.added.length)} added</strong>,{" "}
                <strong>{formatCount(preview.result.removed.length)} removed</strong>.
              </p>
              {preview.result.added.length > 0 && <p className="muted">Added: {preview.result.added.slice(0, 20).join(", ")}</p>}
              {preview.result.removed.length > 0 && <p className="muted">Removed: {preview.result.removed.slice(0, 20).join(", ")}</p>}
            </section>
          )}
          <section className="panel" aria-labelledby="history-title">
            <h3 id="history-title">Versions published here</h3>
            {current && current.history.length === 0 ? (
              <p className="muted">None: the built-in version {current.version} is in force.</p>
            ) : (
              <ol className="timeline" data-testid="segment-history">
                {current?.history.map((h) => (
                  <li key={h.version}>
                    v{h.version} by {h.published_by} on {formatDateTime(h.published_at)}
                  </li>
                ))}
              </ol>
            )}
          </section>
        </div>
      </div>
    </section>
  );
}
