//! A loopback TCP proxy in front of a simulator, for fault tests: it adds
//! latency, refuses, hangs, cuts every open stream, or switches to another
//! server behind the same address (a restart). It works on bytes, not HTTP,
//! so it serves TLS and plain simulators alike; status injection (500s, a
//! forced 410) would need it to read HTTP and is not here. It counts the
//! connections it accepts, so a test can tell a bounded retry from a hot
//! loop. Dropping it stops it and closes every connection.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forwards bytes both ways.
    Pass,
    /// Resets every connection as soon as it is accepted, and the open ones:
    /// a server that is down, as a client sees it (and still countable).
    Refuse,
    /// Accepts and never answers; open connections freeze. Leaving the mode
    /// lets everything through again, as a server that was stuck recovers.
    Hang,
    /// Cuts the open connections, then every answer as it starts: requests
    /// get through, their responses break.
    Cut,
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    mode: Mode,
    upstream: SocketAddr,
    latency: Duration,
    /// Bumped to cut every open connection.
    cuts: u64,
}

pub struct FaultProxy {
    addr: SocketAddr,
    settings: watch::Sender<Settings>,
    accepted: Arc<Mutex<Vec<Instant>>>,
    /// How many connections were accepted, for waiting on.
    count: watch::Receiver<usize>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// A proxy on a free loopback port, forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let (settings, rx) = watch::channel(Settings {
            mode: Mode::Pass,
            upstream,
            latency: Duration::ZERO,
            cuts: 0,
        });
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let (count_tx, count) = watch::channel(0);
        let task = tokio::spawn(accept_loop(listener, rx, accepted.clone(), count_tx));
        FaultProxy {
            addr,
            settings,
            accepted,
            count,
            task,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn set_mode(&self, mode: Mode) {
        self.settings.send_modify(|s| {
            s.mode = mode;
            if matches!(mode, Mode::Refuse | Mode::Cut) {
                s.cuts += 1;
            }
        });
    }

    /// Delays every chunk of bytes by `latency`, both ways.
    pub fn set_latency(&self, latency: Duration) {
        self.settings.send_modify(|s| s.latency = latency);
    }

    /// Closes every open connection now (watches included) with a reset.
    pub fn cut(&self) {
        self.settings.send_modify(|s| s.cuts += 1);
    }

    /// Forwards to `upstream` from now on and cuts what was open: the
    /// server behind this address restarted, maybe with other contents.
    pub fn switch_upstream(&self, upstream: SocketAddr) {
        self.settings.send_modify(|s| {
            s.upstream = upstream;
            s.cuts += 1;
        });
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.lock().expect("the proxy's counter").len()
    }

    /// Waits until `n` connections in all have been accepted; fails after
    /// `timeout`.
    pub async fn until_connections(&self, n: usize, timeout: Duration) {
        let mut count = self.count.clone();
        tokio::time::timeout(timeout, count.wait_for(|c| *c >= n))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{} connections after {timeout:?}, waiting for {n}",
                    self.connections()
                )
            })
            .expect("the proxy runs");
    }

    /// The most connections accepted within any one second since `since`.
    pub fn max_per_second(&self, since: Instant) -> usize {
        let times: Vec<Instant> = self
            .accepted
            .lock()
            .expect("the proxy's counter")
            .iter()
            .copied()
            .filter(|t| *t >= since)
            .collect();
        let mut best = 0;
        let mut start = 0;
        for end in 0..times.len() {
            while times[end].duration_since(times[start]) >= Duration::from_secs(1) {
                start += 1;
            }
            best = best.max(end - start + 1);
        }
        best
    }

    /// A copy of `kubeconfig` whose server is this proxy, written to `dir`.
    pub fn kubeconfig(&self, kubeconfig: &Path, server: &str, dir: &Path) -> PathBuf {
        let text = std::fs::read_to_string(kubeconfig).expect("read the kubeconfig");
        let scheme = server.split("://").next().unwrap_or("http");
        let proxied = text.replace(server, &format!("{scheme}://{}", self.addr));
        assert_ne!(text, proxied, "the kubeconfig names {server}");
        let path = dir.join("kubeconfig-proxied");
        std::fs::write(&path, proxied).expect("write the proxied kubeconfig");
        path
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // The accept loop owns the connection tasks: they go with it.
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    settings: watch::Receiver<Settings>,
    accepted: Arc<Mutex<Vec<Instant>>>,
    count: watch::Sender<usize>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            conn = listener.accept() => {
                let Ok((client, _)) = conn else { continue };
                if let Ok(mut a) = accepted.lock() {
                    a.push(Instant::now());
                    count.send_replace(a.len());
                }
                conns.spawn(serve(client, settings.clone()));
            }
            // Reaps finished connections so the set does not grow.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// Waits while the proxy hangs; the settings once it does not.
async fn unless_hung(rx: &mut watch::Receiver<Settings>) -> Option<Settings> {
    rx.wait_for(|s| s.mode != Mode::Hang).await.ok().map(|s| *s)
}

async fn serve(client: TcpStream, mut rx: watch::Receiver<Settings>) {
    let cuts = rx.borrow().cuts;
    let Some(now) = unless_hung(&mut rx).await else {
        return;
    };
    if now.mode == Mode::Refuse || now.cuts != cuts {
        let _ = client.set_zero_linger();
        return;
    }
    let Ok(upstream) = TcpStream::connect(now.upstream).await else {
        let _ = client.set_zero_linger();
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut ur, mut uw) = upstream.into_split();
    let cut = {
        let mut rx = rx.clone();
        async move {
            let _ = rx.wait_for(|s| s.cuts != cuts).await;
        }
    };
    // Either side closing ends the pair, as a server's close would.
    let was_cut = tokio::select! {
        () = cut => true,
        cut = pipe(&mut cr, &mut uw, rx.clone(), false) => cut,
        cut = pipe(&mut ur, &mut cw, rx.clone(), true) => cut,
    };
    if was_cut {
        // A reset, not a close: the client sees the stream break mid-way.
        let _ = cw.as_ref().set_zero_linger();
    }
}

/// Copies `from` to `to`, late by the latency and held while the proxy
/// hangs, until either side closes (false) or an answer is to be cut (true).
async fn pipe<R, W>(
    from: &mut R,
    to: &mut W,
    mut rx: watch::Receiver<Settings>,
    answers: bool,
) -> bool
where
    R: AsyncReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        let Some(now) = unless_hung(&mut rx).await else {
            return false;
        };
        if answers && now.mode == Mode::Cut {
            return true;
        }
        if !now.latency.is_zero() {
            tokio::time::sleep(now.latency).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upstream that answers each line with the line, uppercased.
    async fn echo() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n @ 1..) = s.read(&mut buf).await {
                        let up = buf[..n].to_ascii_uppercase();
                        if s.write_all(&up).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    async fn ask(stream: &mut TcpStream, what: &str) -> std::io::Result<String> {
        stream.write_all(what.as_bytes()).await?;
        let mut buf = [0u8; 64];
        let n = stream.read(&mut buf).await?;
        Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    #[tokio::test]
    async fn forwards_delays_hangs_refuses_cuts_and_counts() {
        let proxy = FaultProxy::start(echo().await).await;
        let mut open = TcpStream::connect(proxy.addr()).await.expect("connect");
        assert_eq!(ask(&mut open, "a").await.expect("an answer"), "A");

        proxy.set_latency(Duration::from_millis(300));
        let asked = Instant::now();
        assert_eq!(ask(&mut open, "b").await.expect("an answer"), "B");
        assert!(asked.elapsed() >= Duration::from_millis(300));
        proxy.set_latency(Duration::ZERO);

        proxy.set_mode(Mode::Hang);
        let mut hung = TcpStream::connect(proxy.addr()).await.expect("accepted");
        let silent = tokio::time::timeout(Duration::from_millis(300), ask(&mut hung, "c")).await;
        assert!(silent.is_err(), "a hung proxy does not answer");
        proxy.set_mode(Mode::Pass);
        let mut buf = [0u8; 8];
        let n = hung.read(&mut buf).await.expect("the held answer");
        assert_eq!(&buf[..n], b"C", "what was held goes through");

        proxy.cut();
        assert!(
            ask(&mut open, "d").await.map_or(true, |s| s.is_empty()),
            "a cut connection is closed"
        );

        proxy.set_mode(Mode::Refuse);
        let mut refused = TcpStream::connect(proxy.addr()).await.expect("accepted");
        assert!(ask(&mut refused, "e").await.map_or(true, |s| s.is_empty()));
        assert_eq!(proxy.connections(), 3);
    }
}
