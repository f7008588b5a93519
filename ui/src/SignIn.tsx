// Sign-in and lock screen: local accounts until central sign-in exists. When the session was
// locked, it says who was signed in and asks for the password again; nothing else is shown.
import { useState, type FormEvent } from "react";
import { toApiError, type Backend, type UiError } from "./backend";
import type { SessionInfo } from "./bindings/SessionInfo";
import { formatApiError } from "./format";

export function SignIn({
  backend,
  lockedUser,
  onSignedIn,
}: {
  backend: Backend;
  lockedUser: string | null;
  onSignedIn: (info: SessionInfo) => void;
}) {
  const [user, setUser] = useState(lockedUser ?? "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    backend.signIn({ user: user.trim(), password }).then(
      (info) => {
        setPassword("");
        setBusy(false);
        onSignedIn(info);
      },
      (reason: unknown) => {
        setBusy(false);
        setPassword("");
        setError(toApiError(reason));
      },
    );
  };

  return (
    <main className="startup" data-testid={lockedUser ? "lock-screen" : "sign-in-screen"}>
      <section className="startup-card" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">{lockedUser ? "Careloop is locked" : "Sign in to Careloop"}</h1>
        {lockedUser && (
          <p className="muted">
            The session locked to protect patient information. Sign in again to continue, or sign in as someone else.
          </p>
        )}
        <form className="form" onSubmit={submit}>
          <label htmlFor="sign-in-user">User name</label>
          <input
            id="sign-in-user"
            autoComplete="username"
            value={user}
            autoFocus={!lockedUser}
            onChange={(e) => setUser(e.target.value)}
            required
          />
          <label htmlFor="sign-in-password">Password</label>
          <input
            id="sign-in-password"
            type="password"
            autoComplete="current-password"
            value={password}
            autoFocus={Boolean(lockedUser)}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
        {error && (
          <p role="alert" className="error-text" data-testid="sign-in-error">
            {formatApiError("Cannot sign in", error)}
          </p>
        )}
      </section>
    </main>
  );
}
