//! kTLS detection and the fallback it leads to on this machine.

use seine_tls::{AVAILABLE_ULP_PATH, KtlsSupport};

#[test]
fn the_ulp_list_is_parsed() {
    assert_eq!(KtlsSupport::from_ulp_list("tls\n"), KtlsSupport::Available);
    assert_eq!(
        KtlsSupport::from_ulp_list("mptcp tls espintcp"),
        KtlsSupport::Available
    );
    assert_eq!(KtlsSupport::from_ulp_list("mptcp\n"), KtlsSupport::NoTlsUlp);
    assert_eq!(KtlsSupport::from_ulp_list(""), KtlsSupport::NoTlsUlp);
    assert_eq!(KtlsSupport::from_ulp_list("tlsx"), KtlsSupport::NoTlsUlp);
}

#[test]
fn detection_matches_the_kernel_and_user_space_encrypts() {
    let expected = match std::fs::read_to_string(AVAILABLE_ULP_PATH) {
        Ok(list) if list.split_whitespace().any(|u| u == "tls") => KtlsSupport::Available,
        Ok(_) => KtlsSupport::NoTlsUlp,
        Err(_) => KtlsSupport::Unknown,
    };
    assert_eq!(KtlsSupport::detect(), expected);
    assert_eq!(KtlsSupport::get(), expected);
    if expected != KtlsSupport::Available {
        eprintln!(
            "NOTE: this kernel offers no tls ULP ({AVAILABLE_ULP_PATH}): the kTLS key hand-off \
             cannot be exercised here; user-space encryption is what runs"
        );
    }
    // The hand-off is not built: user space encrypts whatever the kernel offers.
    assert!(!KtlsSupport::get().kernel_encrypts());
}
