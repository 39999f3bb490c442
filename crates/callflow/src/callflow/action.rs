//! The five callflow actions and their parameters, serialized exactly as 8x8 documents them.

use serde::{Deserialize, Serialize, Serializer};

use crate::PhoneNumber;

/// The voice profile the builder uses when none is set: one that appears in 8x8's own
/// callflow examples. Pick one from your sub-account's speech-profiles API for production.
pub const DEFAULT_VOICE_PROFILE: &str = "en-US-BenjaminRUS";

/// One step of a callflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", content = "params", rename_all = "camelCase")]
pub enum Action {
    /// Dial a number; the caller is bridged to it once it answers.
    MakeCall(MakeCall),
    /// Speak a text (TTS).
    Say(Say),
    /// Play an audio file from a public http(s) URL.
    PlayFile(PlayFile),
    /// Speak a prompt and collect digits; the result comes back in the next `CALL_ACTION`.
    SayAndCapture(SayAndCapture),
    /// End the session (both legs).
    Hangup,
}

/// The action names, for messages and ordering rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// `makeCall`
    MakeCall,
    /// `say`
    Say,
    /// `playFile`
    PlayFile,
    /// `sayAndCapture`
    SayAndCapture,
    /// `hangup`
    Hangup,
}

impl ActionKind {
    /// Every action, in the order 8x8 lists them.
    pub const ALL: [ActionKind; 5] = [
        ActionKind::Say,
        ActionKind::PlayFile,
        ActionKind::SayAndCapture,
        ActionKind::MakeCall,
        ActionKind::Hangup,
    ];

    /// The JSON name (`makeCall`, `say`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::MakeCall => "makeCall",
            ActionKind::Say => "say",
            ActionKind::PlayFile => "playFile",
            ActionKind::SayAndCapture => "sayAndCapture",
            ActionKind::Hangup => "hangup",
        }
    }

    /// The kind for a JSON name (exact, case-sensitive, as 8x8 requires).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl Action {
    /// Which action this is.
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::MakeCall(_) => ActionKind::MakeCall,
            Action::Say(_) => ActionKind::Say,
            Action::PlayFile(_) => ActionKind::PlayFile,
            Action::SayAndCapture(_) => ActionKind::SayAndCapture,
            Action::Hangup => ActionKind::Hangup,
        }
    }
}

/// Serializes a speed as an integer when it is whole (`1`, as in 8x8's examples; its schema
/// types the field as integer) and as a fraction otherwise (`0.75`).
fn ser_speed<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => s.serialize_i64(*x as i64),
        Some(x) => s.serialize_f64(*x),
        None => s.serialize_none(),
    }
}

/// Serializes a voice profile left to the builder as [`DEFAULT_VOICE_PROFILE`] (a builder
/// fills it with its own voice before that).
fn ser_voice<S: Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_deref().unwrap_or(DEFAULT_VOICE_PROFILE))
}

/// `makeCall` parameters.
///
/// Built with named parts, so that the caller id and the number to dial cannot be swapped
/// without it showing: [`MakeCall::to`] the destination, then
/// [`caller_id`](MakeCallTo::caller_id). Both are [`PhoneNumber`]s, so the `Debug` output of
/// a callflow never shows a number in clear (the JSON sent to 8x8 carries them as strings, as
/// before).
///
/// ```
/// use callflow::callflow::MakeCall;
/// let call = MakeCall::to("+6591110001").caller_id("+6568880000").record(true);
/// assert_eq!(call.destination.as_str(), "+6591110001");
/// assert_eq!(call.source.as_str(), "+6568880000");
/// assert!(!format!("{call:?}").contains("91110001"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MakeCall {
    /// Caller id shown to the callee: for number masking, the virtual number.
    pub source: PhoneNumber,
    /// The number to dial (E.164, `+` optional).
    pub destination: PhoneNumber,
    /// Record the call (needs a recording push config on the sub-account). Allowed in replies
    /// to `CALL_ACTION` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_recording: Option<bool>,
}

impl MakeCall {
    /// Dial `destination`; [`caller_id`](MakeCallTo::caller_id) completes the action.
    pub fn to(destination: impl Into<PhoneNumber>) -> MakeCallTo {
        MakeCallTo {
            destination: destination.into(),
        }
    }

    /// Sets `callRecording`.
    pub fn record(mut self, on: bool) -> Self {
        self.call_recording = Some(on);
        self
    }
}

/// A `makeCall` that knows the number to dial and waits for its caller id: made by
/// [`MakeCall::to`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "a makeCall needs its caller id: .caller_id(virtual_number)"]
pub struct MakeCallTo {
    destination: PhoneNumber,
}

impl MakeCallTo {
    /// Shows `source` (for number masking, the virtual number) as caller id to the callee.
    pub fn caller_id(self, source: impl Into<PhoneNumber>) -> MakeCall {
        MakeCall {
            source: source.into(),
            destination: self.destination,
            call_recording: None,
        }
    }
}

/// `say` parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Say {
    /// Text to speak, at most 3000 characters.
    pub text: String,
    /// Voice id from the speech-profiles API, e.g. `en-US-BenjaminRUS`.
    pub voice_profile: String,
    /// Legacy language code; not in 8x8's current schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// How many times to speak it, 1–3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetition: Option<u32>,
    /// Speaking rate, 0.5–2.0.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_speed"
    )]
    pub speed: Option<f64>,
}

impl Say {
    /// Speak `text` with `voice_profile`.
    pub fn new(text: impl Into<String>, voice_profile: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            voice_profile: voice_profile.into(),
            language: None,
            repetition: None,
            speed: None,
        }
    }

    /// Sets `repetition` (1–3).
    pub fn repetition(mut self, n: u32) -> Self {
        self.repetition = Some(n);
        self
    }

    /// Sets `speed` (0.5–2.0).
    pub fn speed(mut self, speed: f64) -> Self {
        self.speed = Some(speed);
        self
    }
}

/// `playFile` parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PlayFile {
    /// Public http(s) URL of an mp3 or wav file, under 5 MB. 8x8 caches by URL for about an
    /// hour: change the name to force a refresh.
    pub file_url: String,
    /// How many times to play it, 1–3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetition: Option<u32>,
}

impl PlayFile {
    /// Play the file at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            file_url: url.into(),
            repetition: None,
        }
    }

    /// Sets `repetition` (1–3).
    pub fn repetition(mut self, n: u32) -> Self {
        self.repetition = Some(n);
        self
    }
}

/// `sayAndCapture` parameters: a TTS prompt, then DTMF collection. The digits (or none, on a
/// timeout) come back in the next `CALL_ACTION`, with the reply's `clientActionId`
/// ([`CallAction::client_action_id`](crate::event::CallAction::client_action_id),
/// [`CallAction::dtmf`](crate::event::CallAction::dtmf)).
///
/// The prompt's voice is the builder's
/// ([`CallFlowBuilder::voice`](crate::CallFlowBuilder::voice)) unless [`voice`](Self::voice)
/// sets one: nothing else is required.
///
/// # Which timeouts to set, and why
///
/// 8x8's guide and its OpenAPI schema disagree on the defaults (`maxDigits` 25 vs 1,
/// `overallTimeout` 30000 vs 5000 ms, `noOfTries` 3 vs 1), so leaving them out means a caller
/// gets 5 s or 30 s depending on which one the platform follows. Set what you rely on:
///
/// - **`overallTimeout`** (always): the time the caller has to enter all the digits, counted
///   from the end of the prompt. Too short and callers who listen to the whole menu time
///   out; too long and a caller who pressed nothing hears dead air. 8x8's own examples use
///   10 000 ms.
/// - **`digitTimeout`** (for more than one digit): the pause allowed between two digits. It
///   requires `overallTimeout` (-1005) and may not exceed it (-1006; 8x8's examples use the
///   two equal, which it accepts). [`timeouts`](Self::timeouts) sets both at once. For a
///   one-digit menu, [`overall_timeout`](Self::overall_timeout) alone is enough.
/// - **`maxDigits`** (and `completeOnHash`): with [`digits(1, 1)`](Self::digits) the input
///   ends at the first key, without waiting for `#` or a timeout.
/// - **`noOfTries`**: how often 8x8 replays the prompt after no or invalid input before it
///   sends the `CALL_ACTION` without digits.
///
/// ```
/// use callflow::CallFlow;
/// use callflow::callflow::SayAndCapture;
/// let menu = SayAndCapture::new("Press 1 for sales, press 2 for support.")
///     .digits(1, 1)            // one key ends the input
///     .overall_timeout(10_000) // 10 s to press it, whichever default 8x8 applies
///     .tries(2);               // the prompt once more on no input
/// let flow = CallFlow::builder().voice("en-US-BenjaminRUS").client_action_id("main-menu")
///     .say_and_capture(menu).build();
/// assert!(flow.to_json().contains(r#""voiceProfile":"en-US-BenjaminRUS""#));
/// assert!(flow.to_json().contains(r#""overallTimeout":10000"#));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SayAndCapture {
    /// The prompt, at most 3000 characters.
    pub prompt_message: String,
    /// Voice id. `None`: the voice of the builder that adds the action
    /// ([`CallFlowBuilder::voice`](crate::CallFlowBuilder::voice)), or
    /// [`DEFAULT_VOICE_PROFILE`] outside a builder. Always sent.
    #[serde(default, serialize_with = "ser_voice")]
    pub voice_profile: Option<String>,
    /// Speaking rate, 0.5–2.0.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_speed"
    )]
    pub speed: Option<f64>,
    /// `#` ends input (default true). If false, `maxDigits` is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_on_hash: Option<bool>,
    /// Fewest digits accepted; requires `maxDigits`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_digits: Option<u32>,
    /// Most digits accepted, 1–25.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_digits: Option<u32>,
    /// Milliseconds allowed between digits; requires `overallTimeout`, and may not exceed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digit_timeout: Option<u32>,
    /// Milliseconds allowed for the whole input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overall_timeout: Option<u32>,
    /// Attempts before giving up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_of_tries: Option<u32>,
    /// Spoken after a valid input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_message: Option<String>,
    /// Spoken after an invalid input or a timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    /// Not in 8x8's parameter table, but present in its own IVR examples; accepted and sent
    /// only if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetition: Option<u32>,
}

impl SayAndCapture {
    /// Speak `prompt` and collect digits; the voice is the builder's unless
    /// [`voice`](Self::voice) sets one.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt_message: prompt.into(),
            voice_profile: None,
            speed: None,
            complete_on_hash: None,
            min_digits: None,
            max_digits: None,
            digit_timeout: None,
            overall_timeout: None,
            no_of_tries: None,
            success_message: None,
            failure_message: None,
            repetition: None,
        }
    }

    /// Speaks the prompt with `profile` (sets `voiceProfile`), whatever the builder's voice.
    pub fn voice(mut self, profile: impl Into<String>) -> Self {
        self.voice_profile = Some(profile.into());
        self
    }

    /// Accept between `min` and `max` digits (sets `minDigits` and `maxDigits`).
    pub fn digits(mut self, min: u32, max: u32) -> Self {
        self.min_digits = Some(min);
        self.max_digits = Some(max);
        self
    }

    /// Sets `maxDigits` only.
    pub fn max_digits(mut self, max: u32) -> Self {
        self.max_digits = Some(max);
        self
    }

    /// Sets `digitTimeout` and `overallTimeout`, in milliseconds.
    pub fn timeouts(mut self, digit_ms: u32, overall_ms: u32) -> Self {
        self.digit_timeout = Some(digit_ms);
        self.overall_timeout = Some(overall_ms);
        self
    }

    /// Sets `overallTimeout` only, in milliseconds.
    pub fn overall_timeout(mut self, ms: u32) -> Self {
        self.overall_timeout = Some(ms);
        self
    }

    /// Sets `completeOnHash`.
    pub fn complete_on_hash(mut self, on: bool) -> Self {
        self.complete_on_hash = Some(on);
        self
    }

    /// Sets `noOfTries`.
    pub fn tries(mut self, n: u32) -> Self {
        self.no_of_tries = Some(n);
        self
    }

    /// Sets `speed` (0.5–2.0).
    pub fn speed(mut self, speed: f64) -> Self {
        self.speed = Some(speed);
        self
    }

    /// Sets `successMessage`.
    pub fn success_message(mut self, text: impl Into<String>) -> Self {
        self.success_message = Some(text.into());
        self
    }

    /// Sets `failureMessage`.
    pub fn failure_message(mut self, text: impl Into<String>) -> Self {
        self.failure_message = Some(text.into());
        self
    }
}
