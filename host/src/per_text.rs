//! What is worked out from a statement's text, remembered per text: a component
//! runs a few dozen texts over and over, and some are kilobytes long.

use std::collections::HashMap;
use std::sync::Mutex;

/// How many texts are remembered: one that makes texts up is worked out afresh each time.
const REMEMBERED: usize = 1024;

/// `work(text)`, remembered for up to [`REMEMBERED`] texts.
pub struct PerText<T>(Mutex<Option<HashMap<String, T>>>);

impl<T: Clone> PerText<T> {
    pub const fn new() -> Self {
        Self(Mutex::new(None))
    }

    pub fn get(&self, text: &str, work: impl FnOnce(&str) -> T) -> T {
        if let Some(known) = self.0.lock().ok().and_then(|texts| texts.as_ref()?.get(text).cloned()) {
            return known;
        }
        let worked_out = work(text);
        if let Ok(mut texts) = self.0.lock() {
            let texts = texts.get_or_insert_with(HashMap::new);
            if texts.len() < REMEMBERED {
                texts.insert(text.to_owned(), worked_out.clone());
            }
        }
        worked_out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_worked_out_once_and_a_made_up_one_each_time_once_full() {
        let memo = PerText::new();
        let mut runs = 0;
        for _ in 0..3 {
            assert_eq!(
                memo.get("SELECT 1", |t| {
                    runs += 1;
                    t.len()
                }),
                8
            );
        }
        assert_eq!(runs, 1);
        for n in 0..REMEMBERED {
            memo.get(&format!("SELECT {n}"), |t| t.len());
        }
        let mut again = 0;
        for _ in 0..2 {
            memo.get("SELECT made_up", |t| {
                again += 1;
                t.len()
            });
        }
        assert_eq!(again, 2);
    }
}
