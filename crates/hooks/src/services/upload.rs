//! The bytes of `FilesService.uploadOne(stream, data, pk?)` on their way from JavaScript to
//! storage, chunk by chunk: JS opens an upload (`op_rectus_upload_open`, a ticket), passes the
//! ticket with the `uploadOne` call (the envelope's `upload`), then writes the stream's chunks
//! (`op_rectus_upload_write`, which waits while storage is behind) and ends it
//! (`op_rectus_upload_end`, with the stream's error if it failed). The call's Rust side reads
//! the chunks as the [`ByteStream`] the upload stores, so a file is never whole in memory.

use bytes::Bytes;
use deno_core::{op2, JsBuffer, OpState};
use rectus_core::storage::ByteStream;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use tokio::sync::mpsc;

type Chunk = std::io::Result<Bytes>;

/// Open uploads of an isolate, by ticket: the writing end JS feeds, and the reading end until
/// the call that stores it takes it (`op_rectus_call` does as it starts, whether or not the
/// call can run).
#[derive(Default)]
struct PendingUploads {
    next: u32,
    writers: HashMap<u32, mpsc::Sender<Chunk>>,
    readers: HashMap<u32, mpsc::Receiver<Chunk>>,
}

/// The stream of upload `ticket`, once.
pub fn take(state: &mut OpState, ticket: u32) -> Option<ByteStream<'static>> {
    let mut reader = state.try_borrow_mut::<PendingUploads>()?.readers.remove(&ticket)?;
    Some(Box::pin(futures_util::stream::poll_fn(move |cx| reader.poll_recv(cx))))
}

#[op2(fast)]
pub fn op_rectus_upload_open(state: &mut OpState) -> u32 {
    if !state.has::<PendingUploads>() {
        state.put(PendingUploads::default());
    }
    let pending = state.borrow_mut::<PendingUploads>();
    pending.next = pending.next.wrapping_add(1).max(1);
    let (writer, reader) = mpsc::channel(4);
    pending.writers.insert(pending.next, writer);
    pending.readers.insert(pending.next, reader);
    pending.next
}

/// Hands one chunk to the upload; false once nothing reads it any more (the upload failed).
#[op2]
pub async fn op_rectus_upload_write(state: Rc<RefCell<OpState>>, #[smi] ticket: u32, #[buffer] chunk: JsBuffer) -> bool {
    let writer = state.borrow().try_borrow::<PendingUploads>().and_then(|p| p.writers.get(&ticket).cloned());
    match writer {
        Some(writer) => writer.send(Ok(Bytes::copy_from_slice(&chunk))).await.is_ok(),
        None => false,
    }
}

/// Ends the upload's stream, as a failure when the JS stream failed with `error`.
#[op2]
pub fn op_rectus_upload_end(state: &mut OpState, #[smi] ticket: u32, #[string] error: Option<String>) {
    let Some(pending) = state.try_borrow_mut::<PendingUploads>() else { return };
    if let Some(writer) = pending.writers.remove(&ticket) {
        if let Some(error) = error {
            // A full channel means the upload reads no more; it fails on its own then.
            let _ = writer.try_send(Err(std::io::Error::other(error)));
        }
    }
}
