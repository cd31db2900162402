//! Async adapter: chunks an async byte stream with [`StreamChunker`], one input piece at a
//! time, so it holds at most one maximum chunk plus the piece being cut.

use std::collections::VecDeque;

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::chunker::StreamChunker;
use crate::config::ChunkerParams;

struct State<S> {
    input: std::pin::Pin<Box<S>>,
    chunker: Option<StreamChunker>,
    ready: VecDeque<Bytes>,
}

/// Chunks of `input` with the same cut points as [`StreamChunker`]; the first input error
/// is passed through and ends the stream.
pub fn chunk_stream<S, E>(
    params: ChunkerParams,
    input: S,
) -> impl Stream<Item = Result<Bytes, E>> + Send
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: Send,
{
    let state = State {
        input: Box::pin(input),
        chunker: Some(StreamChunker::new(params)),
        ready: VecDeque::new(),
    };
    futures::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(chunk) = st.ready.pop_front() {
                return Some((Ok(chunk), st));
            }
            let chunker = st.chunker.as_mut()?;
            match st.input.next().await {
                Some(Ok(piece)) => st.ready.extend(chunker.push(piece)),
                Some(Err(e)) => {
                    st.chunker = None;
                    return Some((Err(e), st));
                }
                None => {
                    if let Some(c) = st.chunker.take() {
                        st.ready.extend(c.finish());
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_chunks_as_sync_and_errors_pass_through() {
        let p = ChunkerParams {
            min_size: 1024,
            avg_size: 4096,
            max_size: 16384,
        };
        let mut data = vec![0u8; 200_000];
        blake3::Hasher::new().finalize_xof().fill(&mut data);
        let whole = StreamChunker::chunk_all(p, Bytes::from(data.clone()));
        let pieces: Vec<Result<Bytes, ()>> = data
            .chunks(3333)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let got: Vec<Bytes> = futures::executor::block_on(
            chunk_stream(p, futures::stream::iter(pieces))
                .map(|r| r.unwrap())
                .collect(),
        );
        assert_eq!(got, whole);

        let failing = futures::stream::iter(vec![Ok(Bytes::from(vec![1u8; 100])), Err("boom")]);
        let got: Vec<Result<Bytes, &str>> =
            futures::executor::block_on(chunk_stream(p, failing).collect());
        assert_eq!(got, vec![Err("boom")]);
    }
}
