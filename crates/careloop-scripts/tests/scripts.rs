//! The scripts crate from the outside: the built-in scripts, loading errors (each rule the
//! loader enforces, with where it is reported), branching, answer checks, the answers' JSON
//! and rendering in a language.

use std::path::{Path, PathBuf};

use careloop_scripts::{
    builtin_scripts, load_scripts, parse_script, Answer, AnswerError, Answers, Placeholders,
    RenderedQuestionKind, Script, ScriptError, ScriptLibrary, Text,
};
use chrono::NaiveDate;
use serde_json::{json, Value};

const BUILTIN_IDS: [&str; 6] = [
    "bh_continuity",
    "care_gap_reminder",
    "dormant_reengagement",
    "post_discharge",
    "social_risk_escalation",
    "support_plan_review",
];

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/scripts")
}

fn builtin(id: &str) -> Script {
    builtin_scripts()
        .expect("the built-in scripts load")
        .get(id)
        .unwrap_or_else(|| panic!("built-in script {id}"))
        .clone()
}

fn answers(pairs: &[(&str, Answer)]) -> Answers {
    pairs
        .iter()
        .map(|(id, answer)| (id.to_string(), answer.clone()))
        .collect()
}

fn choice(value: &str) -> Answer {
    Answer::Choice(value.to_owned())
}

fn choices(values: &[&str]) -> Answer {
    Answer::Choices(values.iter().map(|v| v.to_string()).collect())
}

fn visible_ids(script: &Script, answers: &Answers) -> Vec<String> {
    script
        .visible_questions(answers)
        .iter()
        .map(|q| q.id.clone())
        .collect()
}

/// Every `Text` of a script, with a label saying where it is.
fn all_texts(script: &Script) -> Vec<(String, &Text)> {
    let mut texts = vec![
        ("title".to_owned(), &script.title),
        ("introduction".to_owned(), &script.introduction),
    ];
    for m in &script.messages {
        texts.push((format!("message {}", m.id), &m.text));
    }
    for q in &script.questions {
        texts.push((format!("question {}", q.id), &q.text));
        for o in q.kind.options() {
            texts.push((format!("question {} option {}", q.id, o.value), &o.text));
        }
        if let careloop_scripts::QuestionKind::Scale {
            min_label,
            max_label,
            ..
        } = &q.kind
        {
            texts.extend(min_label.iter().map(|t| (format!("{} min_label", q.id), t)));
            texts.extend(max_label.iter().map(|t| (format!("{} max_label", q.id), t)));
        }
    }
    texts
}

// ---------------------------------------------------------------------------------------
// The built-in scripts

#[test]
fn the_six_builtin_scripts_load_and_pass_every_check() {
    let library = builtin_scripts().unwrap_or_else(|e| panic!("built-ins must load:\n{e}"));
    let ids: Vec<&str> = library.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, BUILTIN_IDS, "the built-ins, in id order");
    assert_eq!(library.len(), 6);
    for script in &library {
        assert!(script.version >= 1);
        assert!(!script.questions.is_empty(), "{}", script.id);
        // Each is also accepted on its own by the same checks a published draft goes through.
        let file = format!("{}.json", script.id);
        let text = std::fs::read_to_string(schema_dir().join(&file)).unwrap();
        assert_eq!(&parse_script(&file, &text).unwrap(), script);
    }
    assert!(library.get("no_such_script").is_none());
}

#[test]
fn the_embedded_scripts_are_the_files_of_the_schema_directory() {
    let from_dir = load_scripts(&schema_dir()).unwrap();
    let embedded = builtin_scripts().unwrap();
    assert_eq!(
        from_dir, embedded,
        "build.rs must embed exactly schema/scripts/*.json"
    );
}

#[test]
fn every_script_a_builtin_segment_names_is_a_builtin_script() {
    let library = builtin_scripts().unwrap();
    let segments = schema_dir().join("../segments");
    let mut named = 0;
    for entry in std::fs::read_dir(&segments).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let segment: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if let Some(script) = segment["script"].as_str() {
            named += 1;
            assert!(
                library.get(script).is_some(),
                "{}: script {script:?} is not a built-in script",
                path.display()
            );
        }
    }
    assert!(named > 0, "the segments name scripts");
}

#[test]
fn every_builtin_text_has_english_and_spanish() {
    for script in &builtin_scripts().unwrap() {
        for (place, text) in all_texts(script) {
            for language in ["en", "es"] {
                let translated = text.translation(language).unwrap_or_default();
                assert!(
                    !translated.trim().is_empty(),
                    "{}: {place} has no {language:?} text",
                    script.id
                );
            }
        }
    }
}

#[test]
fn scripts_serialize_to_the_json_of_their_files() {
    // The UI and the API receive scripts in the documented file format, nothing else.
    for script in &builtin_scripts().unwrap() {
        let file = schema_dir().join(format!("{}.json", script.id));
        let on_disk: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        assert_eq!(
            serde_json::to_value(script).unwrap(),
            on_disk,
            "{} serialized differs from its file",
            script.id
        );
    }
}

#[test]
fn messages_are_found_by_id_with_their_sensitivity() {
    let script = builtin("post_discharge");
    assert!(script.message("medicines_check").unwrap().sensitive);
    let call_request = script.message("call_request").unwrap();
    assert!(!call_request.sensitive);
    assert!(script.message("nope").is_none());
    let placeholders = Placeholders {
        first_name: "Ana".into(),
        clinic_name: "Riverside Clinic".into(),
        clinic_phone: "555-0100".into(),
    };
    let sms = call_request.text.render("es-MX", &placeholders);
    assert_eq!(sms.language, "es");
    assert_eq!(
        sms.text,
        "Hola, Ana: su equipo de atención de Riverside Clinic quiere hablar con usted. Llame al \
         555-0100 o responda a este mensaje para elegir una hora."
    );
}

// ---------------------------------------------------------------------------------------
// Rendering and language fallback

fn placeholders() -> Placeholders {
    Placeholders {
        first_name: "Ana".into(),
        clinic_name: "Riverside Clinic".into(),
        clinic_phone: "555-0100".into(),
    }
}

#[test]
fn rendering_falls_back_from_a_region_to_its_language_and_reports_it() {
    let rendered = builtin("dormant_reengagement").render("es-MX", &placeholders());
    assert_eq!(
        rendered.language, "es",
        "es-MX is not translated: es is used"
    );
    assert_eq!(rendered.title.text, "Nos gustaría saber de usted");
    assert_eq!(rendered.title.language, "es");
    assert!(rendered
        .introduction
        .text
        .starts_with("Hola, le llamo de Riverside Clinic. ¿Puedo hablar con Ana?"));
    let first = &rendered.questions[0];
    assert_eq!(first.id, "still_with_clinic");
    assert_eq!(
        first.text.text,
        "¿Sigue recibiendo su atención médica en Riverside Clinic?"
    );
    let RenderedQuestionKind::SingleChoice { options } = &first.kind else {
        panic!("still_with_clinic is a single choice: {:?}", first.kind)
    };
    assert_eq!(options[1].value, "other_provider");
    assert_eq!(
        options[1].text.text,
        "No, ahora voy a otro médico o clínica"
    );
    assert_eq!(options[1].text.language, "es");
    assert_eq!(
        rendered.questions[1].show_if,
        builtin("dormant_reengagement").questions[1].show_if,
        "conditions go along so the screen can branch"
    );
}

#[test]
fn rendering_in_an_untranslated_language_uses_english_and_says_so() {
    let rendered = builtin("post_discharge").render("fr", &placeholders());
    assert_eq!(rendered.language, "en");
    assert_eq!(rendered.title.text, "After a hospital stay");
    assert!(rendered
        .introduction
        .text
        .starts_with("Hello, I'm calling from Riverside Clinic. May I speak with Ana?"));
    let helper_confidence = rendered
        .questions
        .iter()
        .find(|q| q.id == "helper_confidence")
        .unwrap();
    let RenderedQuestionKind::Scale {
        min,
        max,
        min_label,
        max_label,
    } = &helper_confidence.kind
    else {
        panic!("helper_confidence is a scale")
    };
    assert_eq!((*min, *max), (1, 5));
    assert_eq!(min_label.as_ref().unwrap().text, "Not sure at all");
    assert_eq!(max_label.as_ref().unwrap().language, "en");
}

#[test]
fn rendered_builtins_have_no_placeholder_left_in_english_or_spanish() {
    for script in &builtin_scripts().unwrap() {
        for language in ["en", "es"] {
            let rendered = script.render(language, &placeholders());
            assert_eq!(rendered.language, language);
            let json = serde_json::to_string(&rendered).unwrap();
            for placeholder in ["{first_name}", "{clinic_name}", "{clinic_phone}"] {
                assert!(
                    !json.contains(placeholder),
                    "{} ({language}): {placeholder} is left: {json}",
                    script.id
                );
            }
            assert!(json.contains("Riverside Clinic"), "{}", script.id);
            for question in &rendered.questions {
                assert_eq!(question.text.language, language, "{}", question.id);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Branching

/// A complete, valid set of answers to post_discharge where things went well.
fn post_discharge_going_well() -> Answers {
    answers(&[
        ("medication_clarity", Answer::YesNo(true)),
        ("medicines_at_home", Answer::YesNo(true)),
        ("symptom_change", choice("better")),
        ("has_helper", Answer::YesNo(false)),
        ("home_barriers", choices(&["none"])),
        ("followup_booked", Answer::YesNo(false)),
    ])
}

#[test]
fn a_hidden_required_question_need_not_be_answered() {
    let script = builtin("post_discharge");
    let answers = post_discharge_going_well();
    assert_eq!(
        visible_ids(&script, &answers),
        [
            "medication_clarity",
            "medicines_at_home",
            "symptom_change",
            "has_helper",
            "home_barriers",
            "followup_booked",
            "anything_else",
        ],
        "warning_signs, helper_confidence and followup_date are hidden"
    );
    assert!(script.question("warning_signs").unwrap().required);
    assert_eq!(script.validate_answers(&answers), Ok(()));
}

#[test]
fn a_shown_required_question_must_be_answered() {
    let script = builtin("post_discharge");
    let mut answers = post_discharge_going_well();
    answers.insert("symptom_change".into(), choice("worse"));
    assert!(visible_ids(&script, &answers).contains(&"warning_signs".to_owned()));
    assert_eq!(
        script.validate_answers(&answers),
        Err(AnswerError::Missing {
            question: "warning_signs".into()
        })
    );
    answers.insert("warning_signs".into(), choices(&["fever", "swelling"]));
    assert_eq!(script.validate_answers(&answers), Ok(()));
}

#[test]
fn answering_a_hidden_question_is_refused() {
    let script = builtin("post_discharge");
    let mut answers = post_discharge_going_well();
    answers.insert("warning_signs".into(), choices(&["fever"]));
    let error = script.validate_answers(&answers).unwrap_err();
    assert_eq!(
        error,
        AnswerError::Hidden {
            question: "warning_signs".into()
        }
    );
    assert_eq!(error.question(), "warning_signs");
}

#[test]
fn an_unanswered_question_hides_the_questions_that_depend_on_it() {
    let script = builtin("post_discharge");
    let visible = visible_ids(&script, &Answers::new());
    assert!(!visible.contains(&"warning_signs".to_owned()));
    assert!(!visible.contains(&"followup_date".to_owned()));
    assert_eq!(
        script.validate_answers(&Answers::new()),
        Err(AnswerError::Missing {
            question: "medication_clarity".into()
        }),
        "missing answers are reported in question order"
    );
}

#[test]
fn hiding_a_question_hides_the_questions_that_depend_on_it_in_turn() {
    let script = builtin("bh_continuity");
    let mut answers = answers(&[
        ("how_things_are", Answer::Scale(3)),
        ("in_touch_with_team", Answer::YesNo(true)),
        ("taking_medication", choice("yes")),
        ("hard_times", Answer::YesNo(true)),
        ("thoughts_of_harm", Answer::YesNo(true)),
        ("urgent_callback", choice("callback_today")),
        ("housing_stable", choice("yes")),
        ("preferred_contact", choice("phone")),
    ]);
    assert_eq!(script.validate_answers(&answers), Ok(()));
    assert!(visible_ids(&script, &answers).contains(&"urgent_callback".to_owned()));

    // hard_times "no" hides thoughts_of_harm, and so urgent_callback, although
    // thoughts_of_harm still has a "yes" in the answers.
    answers.insert("hard_times".into(), Answer::YesNo(false));
    let visible = visible_ids(&script, &answers);
    assert!(!visible.contains(&"thoughts_of_harm".to_owned()));
    assert!(!visible.contains(&"urgent_callback".to_owned()));
    assert_eq!(
        script.validate_answers(&answers),
        Err(AnswerError::Hidden {
            question: "thoughts_of_harm".into()
        })
    );
    answers.remove("thoughts_of_harm");
    assert_eq!(
        script.validate_answers(&answers),
        Err(AnswerError::Hidden {
            question: "urgent_callback".into()
        })
    );
    answers.remove("urgent_callback");
    assert_eq!(script.validate_answers(&answers), Ok(()));
}

#[test]
fn a_scale_condition_shows_a_question_from_its_threshold_on() {
    let script = builtin("support_plan_review");
    let mut answers = answers(&[
        ("routine_changed", Answer::YesNo(false)),
        ("support_missed", Answer::YesNo(false)),
        ("caregiver_available", choice("less")),
        ("caregiver_strain", Answer::Scale(4)),
        ("incident", Answer::YesNo(false)),
        ("help_wanted", choices(&["plan_review", "closer_contact"])),
    ]);
    assert!(visible_ids(&script, &answers).contains(&"caregiver_support".to_owned()));
    assert_eq!(
        script.validate_answers(&answers),
        Err(AnswerError::Missing {
            question: "caregiver_support".into()
        }),
        "at_least 4 is inclusive"
    );
    answers.insert("caregiver_strain".into(), Answer::Scale(3));
    assert!(!visible_ids(&script, &answers).contains(&"caregiver_support".to_owned()));
    assert_eq!(script.validate_answers(&answers), Ok(()));

    // No caregiver: the strain question is hidden, and so the one that depends on it.
    answers.insert("caregiver_available".into(), choice("no_caregiver"));
    answers.insert("caregiver_strain".into(), Answer::Scale(5));
    let visible = visible_ids(&script, &answers);
    assert!(!visible.contains(&"caregiver_strain".to_owned()));
    assert!(!visible.contains(&"caregiver_support".to_owned()));
    assert_eq!(
        script.validate_answers(&answers),
        Err(AnswerError::Hidden {
            question: "caregiver_strain".into()
        })
    );
}

/// A small script exercising what the built-ins do not: a condition on a multiple choice
/// and at_most.
fn branching_probe() -> Script {
    let text = json!({
        "id": "probe", "version": 1, "title": {"en": "Probe"}, "purpose": "navigation",
        "introduction": {"en": "Hello"}, "messages": [],
        "questions": [
            {"id": "needs", "kind": "multiple_choice", "required": false, "text": {"en": "Needs?"},
             "options": [{"value": "food", "text": {"en": "Food"}},
                         {"value": "rent", "text": {"en": "Rent"}},
                         {"value": "none", "text": {"en": "None"}}]},
            {"id": "food_detail", "kind": "free_text", "required": true, "text": {"en": "Food?"},
             "show_if": {"question": "needs", "any_of": ["food", "rent"]}},
            {"id": "mood", "kind": "scale", "required": false, "text": {"en": "Mood?"}, "min": 0, "max": 10},
            {"id": "low_mood_followup", "kind": "date", "required": true, "text": {"en": "When?"},
             "show_if": {"question": "mood", "at_most": 3}}
        ]
    });
    parse_script("probe.json", &text.to_string()).unwrap()
}

#[test]
fn any_of_on_a_multiple_choice_matches_any_selected_value_and_at_most_is_inclusive() {
    let script = branching_probe();
    let shown = |answers: &Answers| visible_ids(&script, answers);
    assert_eq!(shown(&Answers::new()), ["needs", "mood"]);
    assert_eq!(
        shown(&answers(&[("needs", choices(&["none", "rent"]))])),
        ["needs", "food_detail", "mood"]
    );
    assert_eq!(
        shown(&answers(&[("needs", choices(&["none"]))])),
        ["needs", "mood"]
    );
    assert_eq!(
        shown(&answers(&[("needs", choices(&[]))])),
        ["needs", "mood"]
    );
    assert_eq!(
        shown(&answers(&[("mood", Answer::Scale(3))])),
        ["needs", "mood", "low_mood_followup"]
    );
    assert_eq!(
        shown(&answers(&[("mood", Answer::Scale(4))])),
        ["needs", "mood"]
    );
    // An answer of the wrong kind meets no condition (and is refused by validate_answers).
    assert_eq!(
        shown(&answers(&[("needs", choice("food"))])),
        ["needs", "mood"]
    );
}

// ---------------------------------------------------------------------------------------
// Answer checks

#[test]
fn an_answer_to_a_question_the_script_does_not_have_is_refused() {
    let script = builtin("post_discharge");
    let mut answers = post_discharge_going_well();
    answers.insert("favourite_colour".into(), choice("red"));
    assert_eq!(
        script.validate_answers(&answers),
        Err(AnswerError::UnknownQuestion {
            question: "favourite_colour".into()
        })
    );
}

#[test]
fn an_answer_of_the_wrong_type_for_the_kind_is_refused() {
    let script = builtin("post_discharge");
    let date = Answer::Date(NaiveDate::from_ymd_opt(2025, 3, 14).unwrap());
    for (question, answer, expected, found) in [
        ("medication_clarity", choice("yes"), "yes_no", "choice"),
        (
            "symptom_change",
            choices(&["better"]),
            "single_choice",
            "choices",
        ),
        ("home_barriers", choice("none"), "multiple_choice", "choice"),
        ("anything_else", date.clone(), "free_text", "date"),
        (
            "followup_booked",
            Answer::Text("yes".into()),
            "yes_no",
            "text",
        ),
    ] {
        let mut answers = post_discharge_going_well();
        answers.insert(question.into(), answer);
        assert_eq!(
            script.validate_answers(&answers),
            Err(AnswerError::WrongType {
                question: question.into(),
                expected,
                found
            })
        );
    }
    let mut answers = post_discharge_going_well();
    answers.insert("followup_booked".into(), Answer::YesNo(true));
    answers.insert("followup_date".into(), Answer::Scale(14));
    assert_eq!(
        script.validate_answers(&answers),
        Err(AnswerError::WrongType {
            question: "followup_date".into(),
            expected: "date",
            found: "scale"
        })
    );
    answers.insert("followup_date".into(), date);
    assert_eq!(script.validate_answers(&answers), Ok(()));
}

#[test]
fn a_choice_that_is_not_an_option_is_refused() {
    let script = builtin("post_discharge");
    let mut answers = post_discharge_going_well();
    answers.insert("symptom_change".into(), choice("terrible"));
    let error = script.validate_answers(&answers).unwrap_err();
    assert_eq!(
        error,
        AnswerError::NotAnOption {
            question: "symptom_change".into(),
            value: Some("terrible".into())
        }
    );
    assert_eq!(
        error.to_string(),
        "question \"symptom_change\": \"terrible\" is not one of its options"
    );

    let mut answers = post_discharge_going_well();
    answers.insert("home_barriers".into(), choices(&["food", "money"]));
    assert_eq!(
        script.validate_answers(&answers),
        Err(AnswerError::NotAnOption {
            question: "home_barriers".into(),
            value: Some("money".into())
        })
    );
}

#[test]
fn a_choice_made_twice_is_refused() {
    let script = builtin("post_discharge");
    let mut answers = post_discharge_going_well();
    answers.insert(
        "home_barriers".into(),
        choices(&["food", "transport", "food"]),
    );
    assert_eq!(
        script.validate_answers(&answers),
        Err(AnswerError::RepeatedOption {
            question: "home_barriers".into(),
            value: Some("food".into())
        })
    );
}

#[test]
fn a_scale_answer_out_of_range_is_refused() {
    let script = builtin("post_discharge");
    for out in [0, 6, -1, i64::MAX] {
        let mut answers = post_discharge_going_well();
        answers.insert("has_helper".into(), Answer::YesNo(true));
        answers.insert("helper_confidence".into(), Answer::Scale(out));
        let error = script.validate_answers(&answers).unwrap_err();
        assert_eq!(
            error,
            AnswerError::OutOfRange {
                question: "helper_confidence".into(),
                min: 1,
                max: 5
            },
            "{out}"
        );
        assert_eq!(
            error.to_string(),
            "question \"helper_confidence\": the answer is outside the scale (1 to 5)"
        );
    }
    for edge in [1, 5] {
        let mut answers = post_discharge_going_well();
        answers.insert("has_helper".into(), Answer::YesNo(true));
        answers.insert("helper_confidence".into(), Answer::Scale(edge));
        assert_eq!(script.validate_answers(&answers), Ok(()), "{edge}");
    }
}

#[test]
fn a_missing_required_answer_is_refused_and_blank_answers_count_as_missing() {
    let script = builtin("post_discharge");
    let mut answers = post_discharge_going_well();
    answers.remove("followup_booked");
    let error = script.validate_answers(&answers).unwrap_err();
    assert_eq!(
        error,
        AnswerError::Missing {
            question: "followup_booked".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "question \"followup_booked\": required, but not answered"
    );

    let mut answers = post_discharge_going_well();
    answers.insert("home_barriers".into(), choices(&[]));
    assert_eq!(
        script.validate_answers(&answers),
        Err(AnswerError::Missing {
            question: "home_barriers".into()
        }),
        "an empty selection does not answer a required multiple choice"
    );

    // Optional questions may be left out or answered blank.
    let mut answers = post_discharge_going_well();
    answers.insert("anything_else".into(), Answer::Text("  ".into()));
    assert_eq!(script.validate_answers(&answers), Ok(()));

    // A required free text answered with blanks is not answered.
    let probe = branching_probe();
    let blank = answers_for_probe("   ");
    assert_eq!(
        probe.validate_answers(&blank),
        Err(AnswerError::Missing {
            question: "food_detail".into()
        })
    );
    assert_eq!(
        probe.validate_answers(&answers_for_probe("Out of food")),
        Ok(())
    );
}

fn answers_for_probe(food_detail: &str) -> Answers {
    answers(&[
        ("needs", choices(&["food"])),
        ("food_detail", Answer::Text(food_detail.into())),
    ])
}

#[test]
fn answer_errors_never_carry_what_the_person_said() {
    let secret = "I have been hearing voices";
    let script = builtin("post_discharge");
    let cases: Vec<(Answers, &str)> = vec![
        (
            {
                let mut a = post_discharge_going_well();
                a.insert("medication_clarity".into(), Answer::Text(secret.into()));
                a
            },
            "wrong type",
        ),
        (
            {
                let mut a = post_discharge_going_well();
                a.insert("warning_signs".into(), Answer::Text(secret.into()));
                a
            },
            "hidden",
        ),
        (
            {
                let mut a = post_discharge_going_well();
                a.insert("symptom_change".into(), choice(secret));
                a
            },
            "not an option",
        ),
        (
            {
                let mut a = post_discharge_going_well();
                a.insert("home_barriers".into(), choices(&[secret]));
                a
            },
            "not an option (multiple)",
        ),
        (
            {
                let mut a = post_discharge_going_well();
                a.insert(secret.into(), Answer::YesNo(true));
                a
            },
            "unknown question",
        ),
    ];
    for (answers, case) in cases {
        let error = script.validate_answers(&answers).unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("voices"), "{case}: {shown}");
    }
    let mut answers = post_discharge_going_well();
    answers.insert("symptom_change".into(), choice(secret));
    assert_eq!(
        script.validate_answers(&answers).unwrap_err().to_string(),
        "question \"symptom_change\": the value given is not one of its options"
    );
}

// ---------------------------------------------------------------------------------------
// The answers' JSON

#[test]
fn answers_have_a_stable_tagged_json_form() {
    let date = NaiveDate::from_ymd_opt(2025, 3, 14).unwrap();
    for (answer, json) in [
        (Answer::YesNo(true), r#"{"kind":"yes_no","value":true}"#),
        (Answer::YesNo(false), r#"{"kind":"yes_no","value":false}"#),
        (choice("worse"), r#"{"kind":"choice","value":"worse"}"#),
        (
            choices(&["fever", "other"]),
            r#"{"kind":"choices","value":["fever","other"]}"#,
        ),
        (choices(&[]), r#"{"kind":"choices","value":[]}"#),
        (Answer::Scale(-2), r#"{"kind":"scale","value":-2}"#),
        (
            Answer::Date(date),
            r#"{"kind":"date","value":"2025-03-14"}"#,
        ),
        (
            Answer::Text("Café \"ok\"".into()),
            r#"{"kind":"text","value":"Café \"ok\""}"#,
        ),
    ] {
        assert_eq!(serde_json::to_string(&answer).unwrap(), json);
        assert_eq!(serde_json::from_str::<Answer>(json).unwrap(), answer);
    }
    let answers = answers(&[
        ("symptom_change", choice("same")),
        ("has_helper", Answer::YesNo(true)),
    ]);
    let json = serde_json::to_string(&answers).unwrap();
    assert_eq!(
        json,
        r#"{"has_helper":{"kind":"yes_no","value":true},"symptom_change":{"kind":"choice","value":"same"}}"#
    );
    assert_eq!(serde_json::from_str::<Answers>(&json).unwrap(), answers);
}

#[test]
fn malformed_answer_json_is_refused() {
    for bad in [
        r#"{"kind":"maybe","value":true}"#,
        r#"{"kind":"yes_no","value":"yes"}"#,
        r#"{"kind":"yes_no","value":true,"note":"x"}"#,
        r#"{"kind":"date","value":"2025-02-30"}"#,
        r#"{"kind":"scale","value":2.5}"#,
        r#"{"yes_no":true}"#,
    ] {
        assert!(serde_json::from_str::<Answer>(bad).is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------------------------------
// Loading errors

/// A small valid script; tests break one thing in it.
fn probe() -> Value {
    json!({
        "id": "probe",
        "version": 1,
        "title": {"en": "Probe", "es": "Sonda"},
        "purpose": "navigation",
        "introduction": {"en": "Hello, this is {clinic_name}. May I speak with {first_name}?"},
        "messages": [
            {"id": "note", "sensitive": false, "text": {"en": "Please call {clinic_phone}."}}
        ],
        "questions": [
            {"id": "ok", "kind": "yes_no", "required": true, "text": {"en": "All right?"}},
            {"id": "level", "kind": "scale", "required": true, "text": {"en": "How much?"},
             "min": 1, "max": 5},
            {"id": "pick", "kind": "single_choice", "required": false, "text": {"en": "Which?"},
             "options": [{"value": "a", "text": {"en": "A"}}, {"value": "b", "text": {"en": "B"}}]},
            {"id": "why", "kind": "free_text", "required": false, "text": {"en": "Why?"},
             "show_if": {"question": "ok", "any_of": ["no"]}}
        ]
    })
}

/// Loads `files` (name, text) from a fresh directory.
fn load_files(files: &[(&str, &str)]) -> Result<ScriptLibrary, ScriptError> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    load_scripts(dir.path())
}

/// The one semantic error of `probe.json` holding `script`, as (at, message).
fn invalid(script: &Value) -> (String, String) {
    let error = load_files(&[("probe.json", &serde_json::to_string_pretty(script).unwrap())])
        .expect_err("the script must be refused");
    match error {
        ScriptError::Invalid { file, at, message } => {
            assert!(file.ends_with("probe.json"), "the file is named: {file}");
            (at, message)
        }
        other => panic!("expected one semantic error, got: {other}"),
    }
}

#[test]
fn the_probe_itself_is_valid() {
    let library = load_files(&[
        ("probe.json", &probe().to_string()),
        ("README.md", "# notes"),
    ])
    .unwrap();
    assert_eq!(library.len(), 1, "only .json files are scripts");
    assert_eq!(library.get("probe").unwrap().questions.len(), 4);
}

#[test]
fn an_unknown_field_is_reported_at_its_line_and_column() {
    let text = r#"{
  "id": "probe",
  "version": 1,
  "title": {"en": "Probe"},
  "purpose": "navigation",
  "introduction": {"en": "Hello"},
  "messages": [],
  "questions": [
    {
      "id": "ok",
      "kind": "yes_no",
      "required": true,
      "colour": "red",
      "text": {"en": "All right?"}
    }
  ]
}"#;
    let error = load_files(&[("probe.json", text)]).unwrap_err();
    let ScriptError::Json {
        file,
        line,
        column,
        message,
    } = &error
    else {
        panic!("expected a JSON shape error, got: {error}")
    };
    assert!(file.ends_with("probe.json"));
    assert_eq!((*line, *column), (13, 14), "just after \"colour\"");
    assert!(
        message.starts_with("unknown field `colour`, expected one of"),
        "{message}"
    );
    assert!(
        error
            .to_string()
            .ends_with(&format!("probe.json:13:14: {message}")),
        "{error}"
    );
    assert!(!message.contains("at line"), "the position is said once");

    // At the top level too.
    let mut script = probe();
    script["author"] = json!("me");
    let error = load_files(&[(
        "probe.json",
        &serde_json::to_string_pretty(&script).unwrap(),
    )])
    .unwrap_err();
    assert!(
        matches!(&error, ScriptError::Json { message, line: 2.., .. } if message.contains("unknown field `author`")),
        "{error}"
    );
}

#[test]
fn broken_json_and_wrong_types_are_reported_at_their_position() {
    let error =
        load_files(&[("probe.json", "{\n  \"id\": \"probe\",\n  \"version\": \n")]).unwrap_err();
    assert!(
        matches!(&error, ScriptError::Json { line: 4, .. }),
        "end of input on line 4: {error}"
    );
    let error = load_files(&[(
        "probe.json",
        "{\n  \"id\": \"probe\",\n  \"version\": -1\n}",
    )])
    .unwrap_err();
    assert!(
        matches!(
            &error,
            ScriptError::Json {
                line: 3,
                column: 15,
                ..
            }
        ),
        "a negative version is not a version: {error}"
    );
    let mut script = probe();
    script["questions"][0]["kind"] = json!("essay");
    let error = load_files(&[("probe.json", &script.to_string())]).unwrap_err();
    assert!(
        matches!(&error, ScriptError::Json { message, .. } if message.contains("unknown variant `essay`")),
        "{error}"
    );
}

#[test]
fn a_text_without_english_is_refused() {
    let mut script = probe();
    script["questions"][2]["options"][1]["text"] = json!({"es": "B"});
    assert_eq!(
        invalid(&script),
        (
            "question \"pick\", option \"b\", text".to_owned(),
            "has no English (\"en\"), which every text needs".to_owned()
        )
    );
    let mut script = probe();
    script["title"] = json!({"es": "Sonda"});
    assert_eq!(invalid(&script).0, "title");
}

#[test]
fn a_show_if_on_a_later_question_is_refused() {
    let mut script = probe();
    script["questions"][0]["show_if"] = json!({"question": "pick", "any_of": ["a"]});
    assert_eq!(
        invalid(&script),
        (
            "question \"ok\"".to_owned(),
            "show_if refers to \"pick\", which comes later".to_owned()
        )
    );
    let error = load_files(&[("probe.json", &script.to_string())]).unwrap_err();
    assert!(
        error.to_string().ends_with(
            "probe.json: question \"ok\": show_if refers to \"pick\", which comes later"
        ),
        "{error}"
    );
}

#[test]
fn a_show_if_on_itself_or_on_no_question_is_refused() {
    let mut script = probe();
    script["questions"][3]["show_if"] = json!({"question": "why", "any_of": ["a"]});
    assert_eq!(
        invalid(&script).1,
        "show_if refers to \"why\", which is the question itself"
    );
    script["questions"][3]["show_if"] = json!({"question": "whom", "any_of": ["a"]});
    assert_eq!(
        invalid(&script).1,
        "show_if refers to \"whom\", which is not a question of this script"
    );
}

#[test]
fn a_show_if_must_fit_the_kind_of_its_question() {
    let at_why = "question \"why\"".to_owned();
    let with_condition = |condition: Value| {
        let mut script = probe();
        script["questions"][3]["show_if"] = condition;
        invalid(&script)
    };
    assert_eq!(
        with_condition(json!({"question": "ok", "any_of": ["maybe"]})),
        (
            at_why.clone(),
            "show_if any_of: \"maybe\" is not an answer of \"ok\" (its answers are \"yes\", \"no\")"
                .to_owned()
        )
    );
    assert_eq!(
        with_condition(json!({"question": "pick", "any_of": ["a", "c"]})).1,
        "show_if any_of: \"c\" is not an answer of \"pick\" (its answers are \"a\", \"b\")"
    );
    assert_eq!(
        with_condition(json!({"question": "level", "any_of": ["3"]})).1,
        "show_if any_of needs a yes_no, single_choice or multiple_choice question, and \"level\" \
         is a scale question"
    );
    assert_eq!(
        with_condition(json!({"question": "ok", "at_least": 1})).1,
        "show_if at_least and at_most need a scale question, and \"ok\" is a yes_no question"
    );
    assert_eq!(
        with_condition(json!({"question": "level", "at_most": 6})).1,
        "show_if: 6 is outside the scale of \"level\" (1 to 5)"
    );
    assert_eq!(
        with_condition(json!({"question": "level", "at_least": 2, "at_most": 4})).1,
        "show_if needs exactly one of any_of, at_least and at_most"
    );
    assert_eq!(
        with_condition(json!({"question": "ok", "any_of": []})).1,
        "show_if any_of needs at least one value"
    );
    assert_eq!(
        with_condition(json!({"question": "ok", "any_of": ["no", "no"]})).1,
        "show_if any_of: \"no\" is listed twice"
    );
    // And the conditions that fit are accepted.
    for fits in [
        json!({"question": "level", "at_least": 5}),
        json!({"question": "level", "at_most": 1}),
        json!({"question": "pick", "any_of": ["b"]}),
    ] {
        let mut script = probe();
        script["questions"][3]["show_if"] = fits.clone();
        assert!(
            load_files(&[("probe.json", &script.to_string())]).is_ok(),
            "{fits}"
        );
    }
}

#[test]
fn a_placeholder_other_than_the_three_is_refused() {
    let mut script = probe();
    script["introduction"]["es"] = json!("Hola {nombre}");
    assert_eq!(
        invalid(&script),
        (
            "introduction".to_owned(),
            "\"es\": unknown placeholder {nombre} (the only placeholders are {first_name}, \
             {clinic_name} and {clinic_phone})"
                .to_owned()
        )
    );
    let mut script = probe();
    script["messages"][0]["text"]["en"] = json!("Call {clinic_phone");
    let (at, message) = invalid(&script);
    assert_eq!(at, "message \"note\", text");
    assert!(
        message.starts_with("\"en\": a \"{\" without a \"}\""),
        "{message}"
    );
    let mut script = probe();
    script["questions"][1]["min_label"] = json!({"en": "Not at all }"});
    assert_eq!(invalid(&script).0, "question \"level\", min_label");
}

#[test]
fn duplicate_ids_are_refused() {
    let mut script = probe();
    script["questions"][2]["id"] = json!("ok");
    assert_eq!(
        invalid(&script),
        (
            "question \"ok\"".to_owned(),
            "an earlier question has the same id".to_owned()
        )
    );
    let mut script = probe();
    script["questions"][2]["options"][1]["value"] = json!("a");
    assert_eq!(
        invalid(&script),
        (
            "question \"pick\", option \"a\"".to_owned(),
            "another option has the same value".to_owned()
        )
    );
    let mut script = probe();
    let note = script["messages"][0].clone();
    script["messages"].as_array_mut().unwrap().push(note);
    assert_eq!(
        invalid(&script),
        (
            "message \"note\"".to_owned(),
            "another message has the same id".to_owned()
        )
    );
}

#[test]
fn a_scale_needs_min_below_max() {
    for (min, max) in [(5, 5), (5, 1)] {
        let mut script = probe();
        script["questions"][1]["min"] = json!(min);
        script["questions"][1]["max"] = json!(max);
        assert_eq!(
            invalid(&script),
            (
                "question \"level\"".to_owned(),
                format!("the scale's min ({min}) must be less than its max ({max})")
            )
        );
    }
    let mut script = probe();
    script["questions"][1]
        .as_object_mut()
        .unwrap()
        .remove("max");
    assert_eq!(invalid(&script).1, "a scale question needs min and max");
}

#[test]
fn the_fields_of_a_question_must_fit_its_kind() {
    let mut script = probe();
    script["questions"][0]["options"] = script["questions"][2]["options"].clone();
    assert_eq!(
        invalid(&script),
        (
            "question \"ok\"".to_owned(),
            "options are only for single_choice and multiple_choice questions".to_owned()
        )
    );
    let mut script = probe();
    script["questions"][0]["max"] = json!(3);
    assert_eq!(invalid(&script).1, "max is only for scale questions");
    let mut script = probe();
    script["questions"][2]
        .as_object_mut()
        .unwrap()
        .remove("options");
    assert_eq!(invalid(&script).1, "a choice question needs options");
    let mut script = probe();
    script["questions"][2]["options"]
        .as_array_mut()
        .unwrap()
        .pop();
    assert_eq!(
        invalid(&script).1,
        "a choice question needs at least two options"
    );
}

#[test]
fn the_id_version_and_purpose_are_checked() {
    let mut script = probe();
    script["id"] = json!("other");
    assert_eq!(
        invalid(&script),
        (
            "id".to_owned(),
            "\"other\" does not match the file name (expected \"probe\")".to_owned()
        )
    );
    let mut script = probe();
    script["version"] = json!(0);
    assert_eq!(
        invalid(&script),
        ("version".to_owned(), "must be at least 1".to_owned())
    );
    let mut script = probe();
    script["purpose"] = json!("marketing");
    assert_eq!(invalid(&script).0, "purpose");
    let mut script = probe();
    script["questions"] = json!([]);
    assert_eq!(
        invalid(&script),
        (
            "questions".to_owned(),
            "a script needs at least one question".to_owned()
        )
    );
    let mut script = probe();
    script["questions"][3]["id"] = json!("Why");
    assert_eq!(invalid(&script).0, "question \"Why\"");
}

#[test]
fn every_problem_of_every_file_is_reported_together() {
    let mut first = probe();
    first["version"] = json!(0);
    first["questions"][1]["min"] = json!(9);
    let mut second = probe();
    second["id"] = json!("second");
    second["title"] = json!({"fr": "Sonde"});
    let error = load_files(&[
        ("probe.json", &first.to_string()),
        ("second.json", &second.to_string()),
        ("third.json", "not json"),
    ])
    .unwrap_err();
    let ScriptError::Several(errors) = &error else {
        panic!("expected several errors: {error}")
    };
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert!(lines[0].ends_with("probe.json: version: must be at least 1"));
    assert!(lines[1].contains("probe.json: question \"level\": the scale's min (9)"));
    assert!(
        lines[2].ends_with("second.json: title: has no English (\"en\"), which every text needs")
    );
    assert!(lines[3].contains("third.json:1:"));
    assert_eq!(error.to_string(), lines.join("\n"));
    assert_eq!(error.errors().len(), 4);
}

#[test]
fn a_missing_directory_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let error = load_scripts(&missing).unwrap_err();
    assert!(matches!(error, ScriptError::Io { .. }), "{error}");
    assert!(error.to_string().contains("nowhere"), "{error}");
}
