// Entry point: mounts the app with the real Tauri backend.
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { tauriBackend } from "./backend";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
// No <StrictMode>: its doubled effects in development would call open_cache twice.
createRoot(root).render(<App backend={tauriBackend} />);
