//! TLS for the simulated API server. kubectl sends bearer tokens only over
//! HTTPS, so token authentication needs it. Each start makes a throwaway CA
//! and a server certificate for the loopback names; the kubeconfig carries
//! the CA, so clients verify the server as they would a real cluster.

use anyhow::Context as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

pub struct ServerTls {
    /// The CA certificate clients trust, PEM.
    pub ca_pem: String,
    /// The server's certificate chain and key, PEM.
    pub cert_pem: String,
    pub key_pem: String,
}

/// Makes a CA and a server certificate valid for `localhost`, `127.0.0.1`,
/// `::1` and the given host.
pub fn generate(host: &str) -> anyhow::Result<ServerTls> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).context("CA parameters")?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "kubedeck-sim CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().context("CA key")?)
        .context("CA certificate")?;

    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if !names.iter().any(|n| n == host) {
        names.push(host.to_string());
    }
    let mut params = CertificateParams::new(names).context("server certificate parameters")?;
    params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    let key = KeyPair::generate().context("server key")?;
    let cert = params.signed_by(&key, &ca).context("server certificate")?;
    Ok(ServerTls {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_a_ca_and_a_server_certificate() {
        let tls = generate("127.0.0.1").expect("generates");
        assert!(tls.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(tls.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(tls.key_pem.contains("PRIVATE KEY"));
        assert_ne!(tls.ca_pem, tls.cert_pem);
    }
}
