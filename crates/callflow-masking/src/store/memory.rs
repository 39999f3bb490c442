//! An in-memory store, for tests and demos.

use std::sync::Mutex;

use callflow::PhoneNumber;

use super::{BindingStore, StoreError, check_conflict, pick};
use crate::binding::{Binding, CallRecord, Lookup, NewBinding, now_millis};

/// Bindings and call records in memory; gone when the process ends.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    bindings: Vec<Binding>,
    calls: Vec<CallRecord>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave State half-written (every change is a
        // single push/retain), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl BindingStore for MemoryStore {
    async fn create(&self, new: NewBinding) -> Result<Binding, StoreError> {
        let now = now_millis();
        let mut s = self.state();
        check_conflict(&s.bindings, &new, now)?;
        let b = new.into_binding(now);
        s.bindings.push(b.clone());
        Ok(b)
    }

    async fn lookup(&self, vn: &PhoneNumber, caller: &PhoneNumber) -> Result<Lookup, StoreError> {
        let s = self.state();
        let candidates = s
            .bindings
            .iter()
            .filter(|b| &b.virtual_number == vn && b.has_party(caller))
            .cloned()
            .collect();
        Ok(pick(candidates, now_millis()))
    }

    async fn get(&self, id: &str) -> Result<Option<Binding>, StoreError> {
        Ok(self.state().bindings.iter().find(|b| b.id == id).cloned())
    }

    async fn list(&self) -> Result<Vec<Binding>, StoreError> {
        Ok(self.state().bindings.clone())
    }

    async fn remove(&self, id: &str) -> Result<bool, StoreError> {
        let mut s = self.state();
        let before = s.bindings.len();
        s.bindings.retain(|b| b.id != id);
        Ok(s.bindings.len() != before)
    }

    async fn record_call(&self, record: CallRecord) -> Result<(), StoreError> {
        let mut s = self.state();
        s.calls.retain(|c| c.session_id != record.session_id);
        s.calls.push(record);
        Ok(())
    }

    async fn calls(&self, limit: usize) -> Result<Vec<CallRecord>, StoreError> {
        let s = self.state();
        Ok(s.calls.iter().rev().take(limit).cloned().collect())
    }
}
