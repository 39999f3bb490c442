//! The callflow builder.

use std::borrow::Cow;

use super::{Action, CallFlow, DEFAULT_VOICE_PROFILE, MakeCall, PlayFile, Say, SayAndCapture};

/// Builds a [`CallFlow`] in call order; start one with [`CallFlow::builder`].
/// [`hangup`](Self::hangup) finishes the callflow, so nothing can follow it;
/// [`build`](Self::build) finishes one that does not hang up (the call goes on, e.g. bridged
/// by `makeCall` or waiting for digits).
///
/// ```
/// use callflow::{CallFlow, callflow::{MakeCall, SayAndCapture}};
/// let menu = CallFlow::builder()
///     .client_action_id("menu-1")
///     .voice("en-GB-Emma")
///     .say_and_capture(
///         SayAndCapture::new("Press 1 for sales, 2 for support.")
///             .digits(1, 1)
///             .timeouts(10_000, 10_000),
///     )
///     .build();
/// assert_eq!(menu.client_action_id(), Some("menu-1"));
/// assert!(menu.to_json().contains(r#""voiceProfile":"en-GB-Emma""#));
///
/// let bridge = CallFlow::builder()
///     .make_call(MakeCall::to("+6592220002").caller_id("+6568880000"))
///     .build();
/// assert_eq!(bridge.actions().len(), 1);
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until .build() or .hangup()"]
pub struct CallFlowBuilder {
    voice: Cow<'static, str>,
    client_action_id: Option<String>,
    actions: Vec<Action>,
}

impl Default for CallFlowBuilder {
    fn default() -> Self {
        Self {
            voice: Cow::Borrowed(DEFAULT_VOICE_PROFILE),
            client_action_id: None,
            actions: Vec::new(),
        }
    }
}

impl CallFlowBuilder {
    /// Sets the `clientActionId` 8x8 echoes in the next `CALL_ACTION` (IVR menu state).
    pub fn client_action_id(mut self, id: impl Into<String>) -> Self {
        self.client_action_id = Some(id.into());
        self
    }

    /// The voice profile for the following [`say`](Self::say) and
    /// [`say_and_capture`](Self::say_and_capture) actions (default [`DEFAULT_VOICE_PROFILE`]).
    pub fn voice(mut self, profile: impl Into<String>) -> Self {
        self.voice = Cow::Owned(profile.into());
        self
    }

    /// Speaks `text` with the builder's voice.
    pub fn say(mut self, text: impl Into<String>) -> Self {
        let say = Say::new(text, self.voice.clone().into_owned());
        self.actions.push(Action::Say(say));
        self
    }

    /// Adds a fully specified `say`.
    pub fn say_with(mut self, say: Say) -> Self {
        self.actions.push(Action::Say(say));
        self
    }

    /// Plays the audio file at `url`.
    pub fn play_file(mut self, url: impl Into<String>) -> Self {
        self.actions.push(Action::PlayFile(PlayFile::new(url)));
        self
    }

    /// Adds a fully specified `playFile`.
    pub fn play_file_with(mut self, play: PlayFile) -> Self {
        self.actions.push(Action::PlayFile(play));
        self
    }

    /// Dials a number: `call` names the destination and the caller id
    /// (`MakeCall::to(destination).caller_id(virtual_number)`), so the two cannot be swapped
    /// silently; it may also set `callRecording`.
    pub fn make_call(mut self, call: MakeCall) -> Self {
        self.actions.push(Action::MakeCall(call));
        self
    }

    /// Speaks a prompt and collects digits; the prompt is spoken with the builder's
    /// [`voice`](Self::voice) unless the capture sets its own.
    pub fn say_and_capture(mut self, mut capture: SayAndCapture) -> Self {
        if capture.voice_profile.is_none() {
            capture.voice_profile = Some(self.voice.clone().into_owned());
        }
        self.actions.push(Action::SayAndCapture(capture));
        self
    }

    /// Ends the call and finishes the callflow.
    pub fn hangup(mut self) -> CallFlow {
        self.actions.push(Action::Hangup);
        self.build()
    }

    /// Finishes the callflow without hanging up.
    pub fn build(self) -> CallFlow {
        CallFlow::from_actions(self.client_action_id, self.actions)
    }
}
