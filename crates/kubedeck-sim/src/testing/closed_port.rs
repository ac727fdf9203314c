//! A loopback port that refuses connections for as long as a test holds
//! it: bound (so the OS gives it to no one else) but never listening.

use tokio::net::TcpSocket;

pub struct ClosedPort {
    _socket: TcpSocket,
    port: u16,
}

impl ClosedPort {
    pub fn new() -> ClosedPort {
        let socket = TcpSocket::new_v4().expect("a TCP socket");
        socket
            .bind(([127, 0, 0, 1], 0).into())
            .expect("bind a loopback port");
        let port = socket.local_addr().expect("the bound address").port();
        ClosedPort {
            _socket: socket,
            port,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Default for ClosedPort {
    fn default() -> ClosedPort {
        ClosedPort::new()
    }
}
