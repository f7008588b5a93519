//! `careloop`: headless operation of Careloop for administrators, tests and benchmarks.
//!
//! Every command goes through careloop-api, like the desktop app. Exit codes: 0 ok, 1 bad
//! input or a user error, 2 an internal error. Output goes through [`outln!`]: a closed pipe
//! (`careloop case list | head -1`) ends the program quietly with 0, another write error (a
//! full disk) with a message and 1, never a panic.
//!
//! On a cache connected to a central server (`careloop sync connect`), the CLI acts only as a
//! user the server signed in here, in the role it gave them (`--role` may only repeat it);
//! the weekly review needs the supervisor role. Without a server (the demo, tests) `--as-user`
//! and `--role` are taken as given.
//!
//! Logs go to stderr, filtered by `CARELOOP_LOG` (`tracing_subscriber::EnvFilter` syntax,
//! e.g. `info` or `careloop_server=debug`; default `warn`). Each command runs in a span
//! `command{name}` holding its name only (`case attempt`, never its arguments: a search
//! query or a note is PHI), and ends with one event: the outcome, the error code (never the
//! message) and how long it took. See `careloop_server::logging` for what may be logged.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

/// Loading a panel's facts makes millions of small allocations: mimalloc serves them faster
/// than the system allocator (measured in the fact store's note).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use careloop_api::{ApiError, Careloop, Config, ErrorCode, ImportSummary};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// `println!` to stdout through [`output::write`]: a closed pipe exits 0 quietly, another
/// write error exits 1 with a message.
macro_rules! outln {
    () => {
        $crate::output::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` to stdout, as [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!($($arg)*))
    };
}

mod ops;
mod server;

/// Standard output that never panics.
mod output {
    use std::io::Write;

    /// Writes to stdout; on a closed pipe the program ends quietly (exit 0: the reader has
    /// what it wanted), on any other error (a full disk) with a message (exit 1).
    pub(crate) fn write(args: std::fmt::Arguments<'_>) {
        if let Err(e) = std::io::stdout().lock().write_fmt(args) {
            failed(e)
        }
    }

    /// Flushes stdout at the end, with the same handling of errors.
    pub(crate) fn flush() {
        if let Err(e) = std::io::stdout().lock().flush() {
            failed(e)
        }
    }

    fn failed(e: std::io::Error) -> ! {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        let _ = writeln!(
            std::io::stderr(),
            "careloop: error (io): writing the output: {e}"
        );
        std::process::exit(1)
    }
}

#[derive(Parser)]
#[command(
    name = "careloop",
    version,
    about = "Careloop: proactive outreach for care teams (headless tool)",
    after_help = "Logs go to stderr, filtered by CARELOOP_LOG (e.g. info, debug, careloop_server=debug; default: warn). They never carry patients' data: codes, counts and durations only."
)]
struct Cli {
    /// Data directory (default: CARELOOP_DATA_DIR, else the OS app-data directory).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Key file with the cache key as 64 hex characters, mode 0600 (default:
    /// CARELOOP_KEY_FILE, else the OS keyring). For servers and CI.
    #[arg(long, global = true, value_name = "FILE")]
    key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a generated demo panel (FHIR R4 NDJSON plus engagement signals) into a directory.
    Demo {
        #[arg(long, default_value_t = 1000)]
        patients: u32,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The panel's "today": nothing is dated after it (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<chrono::NaiveDate>,
    },
    /// Simulate weeks of outreach work on the cache's panel through the API, for demos and
    /// benchmarks: segmentation every Monday, claims, attempts, callbacks, escalations,
    /// referrals and closings by ana, ben and dev (coordinators), cleo (clinician) and sue
    /// (supervisor). The same seed on the same panel does the same work.
    DemoActivity {
        /// How many ISO weeks (Monday to Sunday), the last one containing --end.
        #[arg(long)]
        weeks: u32,
        /// The last simulated day: nothing is dated after it.
        #[arg(long, value_name = "YYYY-MM-DD")]
        end: chrono::NaiveDate,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Import FHIR R4 files (.json, .json.gz, .ndjson, .ndjson.gz), .tar.gz archives and
    /// directories; each file is imported whole or not at all.
    Import {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Go on with the other files when one fails.
        #[arg(long)]
        keep_going: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Evaluate the segments as of a date: members, worklist, overflow, held back.
    Segment(SegmentCommand),
    /// Charlson comorbidity index and LACE readmission index of one patient, with components.
    Score {
        /// The Patient.id.
        patient: String,
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: chrono::NaiveDate,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Outreach cases: open from worklists, list, show, claim, assign, attempt, close.
    Case {
        #[command(subcommand)]
        action: ops::CaseAction,
        #[command(flatten)]
        actor: ops::Actor,
    },
    /// Clinician callbacks: the queue, and documenting one.
    Callback {
        #[command(subcommand)]
        action: ops::CallbackAction,
        #[command(flatten)]
        actor: ops::Actor,
    },
    /// Alerts on key events (ED visit, admission, discharge, missed appointment, social
    /// risk): list, acknowledge.
    Alert {
        #[command(subcommand)]
        action: ops::AlertAction,
        #[command(flatten)]
        actor: ops::Actor,
    },
    /// Escalations: list, raise, acknowledge, resolve.
    Escalation {
        #[command(subcommand)]
        action: ops::EscalationAction,
        #[command(flatten)]
        actor: ops::Actor,
    },
    /// Closed-loop referrals: list (the daily monitor), send, update.
    Referral {
        #[command(subcommand)]
        action: ops::ReferralAction,
        #[command(flatten)]
        actor: ops::Actor,
    },
    /// Shared care plans: domains with owners and goals, actions, monitoring, case reviews.
    Plan {
        #[command(subcommand)]
        action: ops::PlanAction,
        #[command(flatten)]
        actor: ops::Actor,
    },
    /// Search people (names, MRN, phone digits), notes and scripts as you would type.
    Search {
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long, value_name = "ID")]
        segment: Option<String>,
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
        #[arg(long, value_name = "NAME")]
        owner: Option<String>,
        #[command(flatten)]
        actor: ops::Actor,
    },
    /// The audit trail: verify the hash chain, print its head.
    Audit {
        #[command(subcommand)]
        action: ops::AuditAction,
        #[command(flatten)]
        actor: ops::Actor,
    },
    /// The weekly case review of an ISO week (supervisors): cohort changes, pending work,
    /// caseloads, equity, over-contact, outcome metrics. Text summary by default; JSON (to
    /// stdout or --out), CSV (one file per table into the --out directory) or PDF (--out).
    Review {
        /// The ISO week, e.g. 2026-W47 (default: the week of --at).
        #[arg(long, value_name = "YYYY-Www")]
        week: Option<String>,
        #[arg(long, value_enum, default_value_t = ReviewFormat::Text)]
        format: ReviewFormat,
        /// Where to write: a file (json, pdf) or a directory (csv), in an existing directory
        /// (files are created owner-only, never through a symbolic link). Default: the export
        /// folder (CARELOOP_EXPORT_DIR, else Downloads, else home), review-YYYY-Www/ for csv,
        /// review-YYYY-Www.pdf for pdf.
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
        /// The supervisor asking (with a server: a supervisor it signed in here).
        #[arg(long, value_name = "NAME")]
        as_user: Option<String>,
        /// The time asked (default: now); audited.
        #[arg(long, value_name = "TIMESTAMP")]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// What the cache holds.
    Stats {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run the central API server (HTTPS) on the --data-dir server directory.
    Serve {
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443")]
        listen: std::net::SocketAddr,
        /// A PEM certificate (with --key); otherwise one is generated on first start.
        #[arg(long, value_name = "FILE")]
        cert: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        /// More host names for the generated certificate (localhost is always in it).
        #[arg(long = "name", value_name = "HOST")]
        names: Vec<String>,
        /// Requests with a larger body are refused (413).
        #[arg(long, value_name = "BYTES", default_value_t = 8 * 1024 * 1024)]
        max_body: usize,
    },
    /// Administer a central server's data directory (--data-dir): users, panels, audit heads.
    Admin {
        #[command(subcommand)]
        action: server::AdminAction,
    },
    /// This workstation's sync with the central server.
    Sync {
        #[command(subcommand)]
        action: server::SyncAction,
    },
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct SegmentCommand {
    #[command(subcommand)]
    action: Option<SegmentAction>,
    /// The as-of date D: anything dated after it is invisible.
    #[arg(long, value_name = "YYYY-MM-DD", required = true)]
    as_of: Option<chrono::NaiveDate>,
    /// A directory of segment definition files (default: the built-in segments); value sets
    /// in DIR/valuesets add to the built-in ones.
    #[arg(long, value_name = "DIR")]
    definitions: Option<PathBuf>,
    /// Who runs it, for the cohort history (default: $USER).
    #[arg(long, value_name = "NAME")]
    as_user: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Subcommand)]
enum SegmentAction {
    /// Who entered and who left each segment: between two recorded runs (default: the last
    /// two), or with --since, as the live lists recorded it, with the evidence of each change.
    Diff {
        #[arg(long, value_name = "RUN", conflicts_with = "since")]
        from: Option<i64>,
        #[arg(long, value_name = "RUN", conflicts_with = "since")]
        to: Option<i64>,
        /// The live lists' entries and exits from this day on (brought current first).
        #[arg(long, value_name = "YYYY-MM-DD")]
        since: Option<chrono::NaiveDate>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Evaluate a draft definition file on the panel without publishing it: members added and
    /// removed against the segment in force.
    Preview {
        file: PathBuf,
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: chrono::NaiveDate,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Publish a definition file as a new version of its segment (checked first).
    Publish {
        file: PathBuf,
        #[arg(long, value_name = "NAME")]
        as_user: Option<String>,
    },
    /// Why a patient is (or is not) in each segment: conditions, signals, evidence, points.
    Explain {
        /// The Patient.id.
        patient: String,
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: chrono::NaiveDate,
        /// Only this segment.
        #[arg(long, value_name = "ID")]
        segment: Option<String>,
        #[arg(long, value_name = "DIR")]
        definitions: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReviewFormat {
    Text,
    Json,
    Csv,
    Pdf,
}

/// Logs to stderr, filtered by `CARELOOP_LOG` (default `warn`), with the targets that could
/// write PHI always off (`careloop_server::logging::directives`).
fn init_logs() {
    use tracing_subscriber::EnvFilter;
    let spec = std::env::var("CARELOOP_LOG").unwrap_or_default();
    let filter = EnvFilter::try_new(careloop_server::logging::directives(&spec)).unwrap_or_else(|_| {
        eprintln!(
            "careloop: warning: CARELOOP_LOG is not a log filter (e.g. info, careloop_sync=debug); logging warnings only"
        );
        EnvFilter::new(careloop_server::logging::directives(""))
    });
    // Fails only if a subscriber is already set (none is, in this binary).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// The command's name, for its span: the subcommands only, never an argument.
fn command_name(command: &Command) -> &'static str {
    use ops::{AuditAction, CallbackAction, CaseAction, EscalationAction, ReferralAction};
    use server::{AdminAction, PartnerAction, SyncAction, UserAction};
    match command {
        Command::Demo { .. } => "demo",
        Command::DemoActivity { .. } => "demo-activity",
        Command::Import { .. } => "import",
        Command::Segment(c) => match c.action {
            None => "segment",
            Some(SegmentAction::Diff { .. }) => "segment diff",
            Some(SegmentAction::Preview { .. }) => "segment preview",
            Some(SegmentAction::Publish { .. }) => "segment publish",
            Some(SegmentAction::Explain { .. }) => "segment explain",
        },
        Command::Score { .. } => "score",
        Command::Case { action, .. } => match action {
            CaseAction::Open { .. } => "case open",
            CaseAction::List { .. } => "case list",
            CaseAction::Show { .. } => "case show",
            CaseAction::Claim { .. } => "case claim",
            CaseAction::Assign { .. } => "case assign",
            CaseAction::Attempt { .. } => "case attempt",
            CaseAction::Close { .. } => "case close",
            CaseAction::Review { action } => match action {
                ops::ReviewAction::List { .. } => "case review list",
                ops::ReviewAction::Open { .. } => "case review open",
                ops::ReviewAction::Dismiss { .. } => "case review dismiss",
            },
            CaseAction::Changes { .. } => "case changes",
        },
        Command::Callback { action, .. } => match action {
            CallbackAction::List { .. } => "callback list",
            CallbackAction::Document { .. } => "callback document",
        },
        Command::Alert { action, .. } => match action {
            ops::AlertAction::List { .. } => "alert list",
            ops::AlertAction::Ack { .. } => "alert ack",
        },
        Command::Escalation { action, .. } => match action {
            EscalationAction::List => "escalation list",
            EscalationAction::Raise { .. } => "escalation raise",
            EscalationAction::Ack { .. } => "escalation ack",
            EscalationAction::Resolve { .. } => "escalation resolve",
        },
        Command::Referral { action, .. } => match action {
            ReferralAction::List => "referral list",
            ReferralAction::Escalate => "referral escalate",
            ReferralAction::Send { .. } => "referral send",
            ReferralAction::Update { .. } => "referral update",
            ReferralAction::Services => "referral services",
        },
        Command::Plan { action, .. } => match action {
            ops::PlanAction::Start { .. } => "plan start",
            ops::PlanAction::Domain { .. } => "plan domain",
            ops::PlanAction::Action { .. } => "plan action",
            ops::PlanAction::Done { .. } => "plan done",
            ops::PlanAction::Monitor { .. } => "plan monitor",
            ops::PlanAction::Review { .. } => "plan review",
            ops::PlanAction::Held { .. } => "plan held",
            ops::PlanAction::Show { .. } => "plan show",
            ops::PlanAction::Work => "plan work",
            ops::PlanAction::Export { .. } => "plan export",
        },
        Command::Search { .. } => "search",
        Command::Audit { action, .. } => match action {
            AuditAction::Verify { .. } => "audit verify",
            AuditAction::Head => "audit head",
        },
        Command::Review { .. } => "review",
        Command::Stats { .. } => "stats",
        Command::Serve { .. } => "serve",
        Command::Admin { action } => match action {
            AdminAction::User {
                action: UserAction::Add { .. },
            } => "admin user add",
            AdminAction::User {
                action: UserAction::Revoke { .. },
            } => "admin user revoke",
            AdminAction::Panel { .. } => "admin panel",
            AdminAction::Lists { .. } => "admin lists",
            AdminAction::AuditHeads => "admin audit-heads",
            AdminAction::SecurityLog => "admin security-log",
            AdminAction::Partner { action } => match action {
                PartnerAction::Add { .. } => "admin partner add",
                PartnerAction::Service { .. } => "admin partner service",
                PartnerAction::Client { .. } => "admin partner client",
                PartnerAction::User { .. } => "admin partner user",
                PartnerAction::List { .. } => "admin partner list",
                PartnerAction::AccessLog => "admin partner access-log",
            },
        },
        Command::Sync { action } => match action {
            SyncAction::Connect { .. } => "sync connect",
            SyncAction::Login { .. } => "sync login",
            SyncAction::Logout { .. } => "sync logout",
            SyncAction::Run { .. } => "sync run",
            SyncAction::Status { .. } => "sync status",
        },
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_logs();
    let span = tracing::info_span!("command", name = command_name(&cli.command));
    let _in_command = span.enter();
    let started = std::time::Instant::now();
    let code = match run(cli) {
        Ok(code) => {
            tracing::info!(
                outcome = "ok",
                elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "command finished"
            );
            code
        }
        Err(e) => {
            // The code only: the message may name what the user typed.
            tracing::info!(
                outcome = "error",
                code = code_name(e.code).as_str(),
                elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "command finished"
            );
            eprintln!("careloop: error ({}): {}", code_name(e.code), e.message);
            ExitCode::from(if e.code.is_user_error() { 1 } else { 2 })
        }
    };
    output::flush();
    code
}

/// Who acts, for commands that name a user but no role: with a server, a user it signed in
/// here (and their server role); without one, `as_user`, else `$USER`.
pub(crate) fn acting_user(
    careloop: &Careloop,
    as_user: Option<String>,
) -> Result<(String, Option<careloop_api::Role>), ApiError> {
    if let Some((user, role)) = careloop.server_identity(as_user.as_deref(), None)? {
        return Ok((user, Some(role)));
    }
    Ok((
        as_user
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "careloop".to_owned()),
        None,
    ))
}

/// With a server, only a supervisor may do `what`.
fn require_supervisor(
    user: &str,
    role: Option<careloop_api::Role>,
    what: &str,
) -> Result<(), ApiError> {
    match role {
        Some(role) if role != careloop_api::Role::Supervisor => Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("{what} is for supervisors; {user} is a {role} on the server"),
        )),
        _ => Ok(()),
    }
}

fn code_name(code: ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn run(cli: Cli) -> Result<ExitCode, ApiError> {
    let open = |cli_data: Option<PathBuf>, key: Option<PathBuf>| -> Result<Careloop, ApiError> {
        Careloop::open(&Config::resolve(cli_data, key)?)
    };
    match cli.command {
        Command::Serve {
            listen,
            cert,
            key,
            names,
            max_body,
        } => server::serve(cli.data_dir, listen, cert, key, names, max_body),
        Command::Admin { action } => server::admin(cli.data_dir, action),
        Command::Sync { action } => server::sync(&mut open(cli.data_dir, cli.key_file)?, action),
        Command::Case { action, actor } => {
            ops::case(&mut open(cli.data_dir, cli.key_file)?, action, &actor)
        }
        Command::Callback { action, actor } => {
            ops::callback(&mut open(cli.data_dir, cli.key_file)?, action, &actor)
        }
        Command::Escalation { action, actor } => {
            ops::escalation(&mut open(cli.data_dir, cli.key_file)?, action, &actor)
        }
        Command::Alert { action, actor } => {
            ops::alert(&mut open(cli.data_dir, cli.key_file)?, action, &actor)
        }
        Command::Referral { action, actor } => {
            ops::referral(&mut open(cli.data_dir, cli.key_file)?, action, &actor)
        }
        Command::Plan { action, actor } => {
            ops::plan(&mut open(cli.data_dir, cli.key_file)?, action, &actor)
        }
        Command::Search {
            query,
            limit,
            segment,
            status,
            owner,
            actor,
        } => ops::search(
            &mut open(cli.data_dir, cli.key_file)?,
            careloop_api::SearchQuery {
                text: query,
                limit,
                segment,
                status,
                owner,
            },
            &actor,
        ),
        Command::Review {
            week,
            format,
            out,
            as_user,
            at,
        } => {
            let mut careloop = open(cli.data_dir, cli.key_file)?;
            // Without a server, whoever runs the CLI reads the review as a supervisor (the
            // demo); with one, only a supervisor the server signed in here.
            let (user, role) = acting_user(&careloop, as_user)?;
            require_supervisor(&user, role, "the weekly review")?;
            let session = careloop_api::Session {
                user,
                role: careloop_api::Role::Supervisor,
                at: at.unwrap_or_else(chrono::Utc::now),
            };
            let week = match week {
                Some(w) => careloop_api::review::parse_week(&w)?,
                None => careloop_api::review::week_of(session.at.date_naive()),
            };
            review(&mut careloop, &session, week, format, out)
        }
        Command::Audit { action, actor } => {
            ops::audit(&mut open(cli.data_dir, cli.key_file)?, action, &actor)
        }
        Command::Demo {
            patients,
            seed,
            out,
            as_of,
        } => {
            let as_of = as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
            let report = careloop_api::write_demo_panel(&out, patients, seed, as_of)?;
            let resources: u64 = report.resources.values().sum();
            outln!(
                "wrote a demo panel of {} patients ({} resources, {} engagement signals) as of {as_of} to {}",
                report.patients,
                resources,
                report.engagement_signals,
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::DemoActivity {
            weeks,
            end,
            seed,
            format,
        } => {
            let mut careloop = open(cli.data_dir, cli.key_file)?;
            if careloop.server_configured()? {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "demo-activity acts as many users; it is for demo caches, not one that syncs with a server",
                ));
            }
            let plan = careloop_api::activity::ActivityPlan {
                seed,
                ..careloop_api::activity::ActivityPlan::new(weeks, end)
            };
            let bar = progress_bar("{bar:40} week {pos}/{len} ({eta})");
            if let Some(bar) = &bar {
                bar.set_length(weeks.into());
            }
            let report = careloop_api::activity::simulate(&mut careloop, &plan, &mut |done, _| {
                if let Some(bar) = &bar {
                    bar.set_position(done.into());
                }
            })?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            match format {
                Format::Json => outln!("{}", to_json(&report)?),
                Format::Text => print_activity(&report),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            paths,
            keep_going,
            format,
        } => {
            let config = Config::resolve(cli.data_dir, cli.key_file)?;
            let mut careloop = Careloop::open(&config)?;
            let bar = progress_bar("{bar:40} {bytes}/{total_bytes} {msg} ({eta})");
            let summary = careloop.import(&paths, keep_going, &mut |p| {
                if let Some(bar) = &bar {
                    bar.set_length(p.bytes_total);
                    bar.set_position(p.bytes_done);
                    bar.set_message(format!("{} resources", p.resources_done));
                }
            })?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            // The lists follow the new data (the cases too, when someone can act).
            let at = ops::now()?;
            let session = ops::lists_session(&careloop, at)?;
            let lists = careloop.bring_lists_current(at, session.as_ref())?;
            if lists.entered + lists.exited + lists.opened > 0 && format == Format::Text {
                eprintln!("careloop: lists as of {}: {}", lists.as_of, lists.summary);
            }
            // Totals only: the per-type maps' keys come from the files (`skipped` holds any
            // resourceType a file names).
            tracing::info!(
                files_ok = summary.files_ok,
                files_failed = summary.files_failed.len(),
                stored = summary.stored.values().sum::<u64>(),
                unchanged = summary.unchanged.values().sum::<u64>(),
                older = summary.older.values().sum::<u64>(),
                skipped = summary.skipped.values().sum::<u64>(),
                engagement_signals = summary.engagement_signals,
                "imported"
            );
            for failure in &summary.files_failed {
                eprintln!("careloop: failed: {failure}");
            }
            match format {
                Format::Json => outln!("{}", summary_json(&summary)),
                Format::Text => print_summary(&summary),
            }
            Ok(if summary.files_failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Segment(command) => {
            let config = Config::resolve(cli.data_dir, cli.key_file)?;
            let mut careloop = Careloop::open(&config)?;
            let actor = |careloop: &Careloop, name: Option<String>, publishing: bool| {
                let (name, role) = acting_user(careloop, name)?;
                if publishing {
                    require_supervisor(&name, role, "publishing a segment")?;
                }
                Ok::<_, ApiError>(careloop_api::Actor {
                    name,
                    at: chrono::Utc::now(),
                })
            };
            match command.action {
                Some(SegmentAction::Diff {
                    since: Some(since),
                    format,
                    ..
                }) => {
                    let at = ops::now()?;
                    let session = ops::lists_session(&careloop, at)?;
                    careloop.bring_lists_current(at, session.as_ref())?;
                    let changes = careloop.membership_changes(Some(since))?;
                    match format {
                        Format::Json => outln!("{}", to_json(&changes)?),
                        Format::Text => {
                            let mut by_segment: std::collections::BTreeMap<&str, Vec<_>> =
                                Default::default();
                            for c in &changes {
                                by_segment.entry(c.segment_id.as_str()).or_default().push(c);
                            }
                            outln!("recorded by the live lists since {since}");
                            for (id, changes) in by_segment {
                                let entered =
                                    changes.iter().filter(|c| c.change == "entered").count();
                                outln!("{id}: {entered} entered, {} left", changes.len() - entered);
                                for c in changes {
                                    let sign = if c.change == "entered" { '+' } else { '-' };
                                    outln!(
                                        "  {sign} {} {} ({}): {}",
                                        c.day,
                                        c.patient_id,
                                        c.reason,
                                        c.evidence.join("; ")
                                    );
                                }
                            }
                        }
                    }
                }
                Some(SegmentAction::Diff {
                    from, to, format, ..
                }) => {
                    let diff = careloop.segment_diff(from, to)?;
                    match format {
                        Format::Json => outln!("{}", to_json(&diff)?),
                        Format::Text => {
                            outln!(
                                "from run {} (as of {}) to run {} (as of {})",
                                diff.from.id,
                                diff.from.as_of,
                                diff.to.id,
                                diff.to.as_of
                            );
                            for (id, d) in &diff.segments {
                                outln!("{id}: {} entered, {} left", d.entered.len(), d.left.len());
                                for p in &d.entered {
                                    outln!("  + {p}");
                                }
                                for p in &d.left {
                                    outln!("  - {p}");
                                }
                            }
                        }
                    }
                }
                Some(SegmentAction::Preview {
                    file,
                    as_of,
                    format,
                }) => {
                    let preview = careloop.preview_segment(&file, as_of)?;
                    match format {
                        Format::Json => outln!("{}", to_json(&preview)?),
                        Format::Text => {
                            let published = preview
                                .published_version
                                .map_or("none".to_owned(), |v| format!("version {v}"));
                            outln!(
                                "{} draft version {} as of {}: {} members (published: {published}, {} members)",
                                preview.segment_id, preview.draft_version, preview.as_of, preview.draft_count, preview.published_count
                            );
                            outln!(
                                "added ({}): {}",
                                preview.added.len(),
                                preview.added.join(", ")
                            );
                            outln!(
                                "removed ({}): {}",
                                preview.removed.len(),
                                preview.removed.join(", ")
                            );
                        }
                    }
                }
                Some(SegmentAction::Publish { file, as_user }) => {
                    let actor = actor(&careloop, as_user, true)?;
                    let published = careloop.publish_segment(&file, &actor)?;
                    outln!(
                        "published {} version {} by {} at {}",
                        published.id,
                        published.version,
                        published.published_by,
                        published.published_at
                    );
                }
                Some(SegmentAction::Explain {
                    patient,
                    as_of,
                    segment,
                    definitions,
                    format,
                }) => {
                    let explanations = careloop.explain(
                        &patient,
                        as_of,
                        segment.as_deref(),
                        definitions.as_deref(),
                    )?;
                    match format {
                        Format::Json => outln!("{}", to_json(&explanations)?),
                        Format::Text => print_explanations(&patient, as_of, &explanations),
                    }
                }
                None => {
                    let as_of = command
                        .as_of
                        .ok_or_else(|| ApiError::new(ErrorCode::BadInput, "--as-of is required"))?;
                    let actor = actor(&careloop, command.as_user, false)?;
                    let run = careloop.segment(as_of, command.definitions.as_deref(), &actor)?;
                    for warning in &run.warnings {
                        eprintln!("careloop: warning: {warning}");
                    }
                    match command.format {
                        Format::Json => outln!("{}", to_json(&run)?),
                        Format::Text => {
                            outln!(
                                "segments as of {} (definitions {})",
                                run.as_of,
                                run.definitions_version
                            );
                            outln!(
                                "{:<30} {:>8} {:>9} {:>9} {:>10}",
                                "segment",
                                "members",
                                "worklist",
                                "overflow",
                                "held back"
                            );
                            for (id, c) in &run.segments {
                                outln!(
                                    "{id:<30} {:>8} {:>9} {:>9} {:>10}",
                                    c.count,
                                    c.worklist.len(),
                                    c.overflow.len(),
                                    c.held_back.len()
                                );
                            }
                        }
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Score {
            patient,
            as_of,
            format,
        } => {
            let config = Config::resolve(cli.data_dir, cli.key_file)?;
            let scores = Careloop::open(&config)?.scores(&patient, as_of)?;
            match format {
                Format::Json => outln!("{}", to_json(&scores)?),
                Format::Text => {
                    let c = &scores.charlson;
                    outln!("{patient} as of {as_of} (decision support, not a diagnosis)");
                    outln!("Charlson: {} categories, weighted {}", c.count, c.weighted);
                    for category in &c.categories {
                        outln!("  +{} {}", category.points, category.reason);
                    }
                    for superseded in &c.superseded {
                        outln!("  (not counted: {superseded}, a more severe category counts)");
                    }
                    match &scores.lace {
                        None => outln!("LACE: no inpatient stay ended on or before {as_of}"),
                        Some(l) => {
                            outln!(
                                "LACE {} for the stay {} to {} ({}):",
                                l.total,
                                l.admitted,
                                l.discharged,
                                l.admission_id
                            );
                            outln!(
                                "  L {} (length of stay {} days)",
                                l.length_points,
                                l.length_of_stay_days
                            );
                            outln!(
                                "  A {} ({})",
                                l.acuity_points,
                                if l.emergent {
                                    "emergent admission"
                                } else {
                                    "elective admission"
                                }
                            );
                            outln!("  C {} (Charlson {})", l.comorbidity_points, l.charlson);
                            outln!(
                                "  E {} ({} emergency visits in the 6 months before)",
                                l.ed_points,
                                l.ed_visits_6m
                            );
                        }
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Stats { format } => {
            let config = Config::resolve(cli.data_dir, cli.key_file)?;
            let stats = Careloop::open(&config)?.stats()?;
            match format {
                Format::Json => outln!(
                    "{}",
                    serde_json::to_string_pretty(&stats)
                        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?
                ),
                Format::Text => {
                    outln!("patients: {}", stats.patients);
                    outln!("events: {}", stats.events);
                    outln!("engagement signals: {}", stats.engagement_signals);
                    for (t, n) in &stats.resources {
                        outln!("{t}: {n}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(crate) fn to_json(value: &impl serde::Serialize) -> Result<String, ApiError> {
    serde_json::to_string_pretty(value)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))
}

fn print_explanations(
    patient: &str,
    as_of: chrono::NaiveDate,
    explanations: &[careloop_api::dto::ExplanationDto],
) {
    for e in explanations {
        let verdict = if e.member { "member" } else { "not a member" };
        outln!("{patient} in {} as of {as_of}: {verdict}", e.segment_id);
        for c in &e.conditions {
            outln!(
                "  [{}] {}",
                if c.held { "x" } else { " " },
                c.text.replace('\n', " ")
            );
            for s in &c.signals {
                outln!("        {} = {}", s.name, s.value);
            }
            for ev in &c.evidence {
                outln!(
                    "        {} {} {} {}",
                    ev.resource_type,
                    ev.id,
                    ev.code,
                    ev.date.as_deref().unwrap_or("(no date)")
                );
            }
        }
        if let Some(why) = &e.why_not {
            outln!("  why not: {why}");
        }
        if let Some(p) = &e.priority {
            let points: Vec<String> = p
                .points
                .iter()
                .map(|p| format!("+{} {}", p.points, p.reason))
                .collect();
            let points = if points.is_empty() {
                "no priority points apply".to_owned()
            } else {
                points.join("; ")
            };
            outln!("  priority {}: {points}", p.total);
        }
        if let Some(held) = &e.held_back {
            outln!("  held back: {held}");
        }
    }
}

/// A progress bar on stderr when it is a terminal.
fn progress_bar(template: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    Some(bar)
}

fn print_activity(r: &careloop_api::activity::ActivityReport) {
    let list = |map: &std::collections::BTreeMap<String, u32>| {
        let parts: Vec<String> = map.iter().map(|(k, n)| format!("{k} {n}")).collect();
        if parts.is_empty() {
            "none".to_owned()
        } else {
            parts.join(", ")
        }
    };
    match (r.first_day, r.last_day) {
        (Some(first), Some(last)) => outln!(
            "simulated {} weeks ({first} to {last}): {} events",
            r.weeks,
            r.events_total
        ),
        _ => outln!("simulated no weeks"),
    }
    outln!(
        "cohort runs {}; cases opened {}, claimed {}, assigned {}; open at the end {} ({} unassigned)",
        r.cohort_runs,
        r.cases_opened,
        r.cases_claimed,
        r.cases_assigned,
        r.open_cases_at_end,
        r.unassigned_at_end
    );
    outln!(
        "attempts {} ({} reached): {}",
        r.attempts,
        r.reached,
        list(&r.attempts_by_channel)
    );
    outln!(
        "contact-limit overrides {}; attempts put off by the limit {}",
        r.contact_limit_overrides,
        r.attempts_postponed
    );
    outln!(
        "callbacks {} requested, {} documented ({} late)",
        r.callbacks_requested,
        r.callbacks_documented,
        r.callbacks_documented_late
    );
    outln!(
        "escalations raised: {}; {} acknowledged ({} late), {} resolved",
        list(&r.escalations_raised),
        r.escalations_acknowledged,
        r.escalations_acknowledged_late,
        r.escalations_resolved
    );
    outln!(
        "referrals sent: {}; updates: {}",
        list(&r.referrals_sent),
        list(&r.referral_updates)
    );
    outln!("cases closed: {}", list(&r.cases_closed));
    outln!(
        "refused by the API (skipped) {}; planned after the end (left undone) {}",
        r.refused,
        r.left_pending
    );
    let events: Vec<String> = r.events.iter().map(|(k, n)| format!("{k} {n}")).collect();
    outln!("events: {}", events.join(", "));
}

fn summary_json(s: &ImportSummary) -> serde_json::Value {
    serde_json::json!({
        "files_ok": s.files_ok,
        "files_failed": s.files_failed.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        "stored": s.stored,
        "unchanged": s.unchanged,
        "older": s.older,
        "skipped": s.skipped,
        "deletes_ignored": s.deletes_ignored,
        "engagement_signals": s.engagement_signals,
    })
}

fn print_summary(s: &ImportSummary) {
    outln!("files: {} ok, {} failed", s.files_ok, s.files_failed.len());
    let line = |label: &str, map: &std::collections::BTreeMap<String, u64>| {
        if !map.is_empty() {
            let parts: Vec<String> = map.iter().map(|(t, n)| format!("{t} {n}")).collect();
            outln!(
                "{label} ({}): {}",
                map.values().sum::<u64>(),
                parts.join(", ")
            );
        }
    };
    line("stored", &s.stored);
    line("unchanged", &s.unchanged);
    line("older (kept the stored version)", &s.older);
    line("skipped, not used by Careloop", &s.skipped);
    if s.deletes_ignored > 0 {
        outln!("DELETE entries ignored: {}", s.deletes_ignored);
    }
    if s.engagement_signals > 0 {
        outln!("engagement signals stored: {}", s.engagement_signals);
    }
}

/// `careloop review`.
fn review(
    careloop: &mut Careloop,
    session: &careloop_api::Session,
    week: careloop_api::review::Week,
    format: ReviewFormat,
    out: Option<PathBuf>,
) -> Result<ExitCode, ApiError> {
    use careloop_api::review::ReviewFormat as Api;
    let (api, default) = match format {
        ReviewFormat::Text => {
            let review = careloop.weekly_review(session, week)?;
            out!("{}", review_text(&review));
            return Ok(ExitCode::SUCCESS);
        }
        ReviewFormat::Json if out.is_none() => {
            let review = careloop.weekly_review(session, week)?;
            outln!("{}", to_json(&review)?);
            return Ok(ExitCode::SUCCESS);
        }
        ReviewFormat::Json => (Api::Json, format!("review-{week}.json")),
        ReviewFormat::Csv => (Api::Csv, format!("review-{week}")),
        ReviewFormat::Pdf => (Api::Pdf, format!("review-{week}.pdf")),
    };
    // --out names a file (a folder for csv) in an existing folder; without it the export goes
    // to the export folder (CARELOOP_EXPORT_DIR, else Downloads, else home), made if missing.
    let out = match out {
        Some(out) => out,
        None => {
            let dir = careloop_api::desktop::DesktopSettings::from_env()
                .export_dir
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::Io,
                        "no folder to export to: pass --out or set CARELOOP_EXPORT_DIR",
                    )
                })?;
            careloop_api::desktop::make_export_folder(&dir)?;
            dir.join(default)
        }
    };
    for path in careloop.export_review(session, week, api, &out)? {
        outln!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The review's headline figures and its tables, as text.
fn review_text(review: &careloop_api::review::WeeklyReview) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let p = &review.pending;
    let _ = writeln!(
        out,
        "Weekly review {} ({} to {}); run {} against {}",
        review.week,
        review.starts,
        review.ends,
        review
            .run
            .as_ref()
            .map_or("none".to_owned(), |r| format!("{} of {}", r.id, r.as_of)),
        review
            .previous_run
            .as_ref()
            .map_or("none".to_owned(), |r| format!("{} of {}", r.id, r.as_of)),
    );
    let _ = writeln!(
        out,
        "overdue cases {} · unacknowledged escalations {} · overdue referrals {} · waiting callbacks {} · contact-limit overrides {} · open conflicts {} · superseded actions {}",
        p.overdue_cases.len(),
        p.unacknowledged_escalations.len(),
        p.overdue_referrals.len(),
        p.waiting_callbacks.len(),
        review.contacts.overrides.len(),
        p.open_conflicts.len(),
        p.superseded_events
    );
    for table in careloop_api::review::tables(review) {
        let _ = writeln!(out, "\n{}", table.title);
        let _ = writeln!(out, "{}", table.columns.join("\t"));
        for row in table.rows.iter().take(50) {
            let _ = writeln!(out, "{}", row.join("\t"));
        }
        if table.rows.len() > 50 {
            let _ = writeln!(
                out,
                "… {} more rows (use --format csv)",
                table.rows.len() - 50
            );
        }
    }
    out
}
