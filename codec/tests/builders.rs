//! The codecs' one configuration convention: `X::builder()`, named setters,
//! `build()` returning a typed error for parameters that cannot work (nothing
//! panics), and getters of the same names as the setters.

use seine_buffer::{ByteOrder, CumulationStrategy};
use seine_codec::http::{HttpRequestDecoder, HttpResponseEncoder, HttpServerCodec};
use seine_codec::resp::{RespCodec, RespCommandDecoder, RespValueDecoder};
use seine_codec::{
    CodecError, DelimiterDecoder, FixedLengthDecoder, InvalidConfig, LengthFieldDecoder,
    LengthFieldPrepender, LineDecoder,
};

fn invalid(reason: InvalidConfig) -> CodecError {
    CodecError::InvalidConfig(reason)
}

#[test]
fn length_field_decoder_refuses_what_netty_refuses() {
    for length in [0, 5, 6, 7, 9, 16] {
        assert_eq!(
            LengthFieldDecoder::builder()
                .length_field_length(length)
                .build()
                .unwrap_err(),
            invalid(InvalidConfig::LengthFieldLength { length })
        );
    }
    assert_eq!(
        LengthFieldDecoder::builder()
            .max_frame_length(0)
            .build()
            .unwrap_err(),
        invalid(InvalidConfig::ZeroMaxFrameLength)
    );
    assert_eq!(
        LengthFieldDecoder::builder()
            .max_frame_length(4)
            .length_field_offset(1)
            .length_field_length(4)
            .build()
            .unwrap_err(),
        invalid(InvalidConfig::LengthFieldBeyondMaxFrameLength {
            offset: 1,
            length: 4,
            max: 4
        })
    );
    // The message says what to change.
    let err = LengthFieldDecoder::builder()
        .max_frame_length(2)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("raise max_frame_length"), "{err}");
}

#[test]
fn length_field_decoder_getters_match_setters() {
    let d = LengthFieldDecoder::builder()
        .max_frame_length(100)
        .length_field_offset(1)
        .length_field_length(3)
        .length_adjustment(-2)
        .initial_bytes_to_strip(4)
        .little_endian()
        .fail_fast(false)
        .drop_partial_at_eof(true)
        .stop_at_first_error(true)
        .build()
        .unwrap();
    assert_eq!(d.max_frame_length(), 100);
    assert_eq!(d.length_field_offset(), 1);
    assert_eq!(d.length_field_length(), 3);
    assert_eq!(d.length_adjustment(), -2);
    assert_eq!(d.initial_bytes_to_strip(), 4);
    assert_eq!(d.byte_order(), ByteOrder::LittleEndian);
    assert!(!d.fail_fast());
    assert!(d.drop_partial_at_eof());
    assert!(d.stop_at_first_error());
    // Defaults: seine's choices, Netty's options off.
    let d = LengthFieldDecoder::builder().build().unwrap();
    assert!(d.fail_fast() && !d.drop_partial_at_eof() && !d.stop_at_first_error());
    assert_eq!(
        d.max_frame_length(),
        seine_codec::frame::DEFAULT_MAX_FRAME_LENGTH
    );
}

#[test]
fn delimiter_decoder_refuses_no_or_empty_delimiters_and_zero_max() {
    let none: [&[u8]; 0] = [];
    assert_eq!(
        DelimiterDecoder::builder().build().unwrap_err(),
        invalid(InvalidConfig::NoDelimiter)
    );
    assert_eq!(
        DelimiterDecoder::builder()
            .delimiters(none)
            .build()
            .unwrap_err(),
        invalid(InvalidConfig::NoDelimiter)
    );
    assert_eq!(
        DelimiterDecoder::builder()
            .delimiter(";")
            .delimiter("")
            .build()
            .unwrap_err(),
        invalid(InvalidConfig::EmptyDelimiter)
    );
    assert_eq!(
        DelimiterDecoder::builder()
            .nul_delimiter()
            .max_frame_length(0)
            .build()
            .unwrap_err(),
        invalid(InvalidConfig::ZeroMaxFrameLength)
    );
    let d = DelimiterDecoder::builder()
        .line_delimiters()
        .max_frame_length(9)
        .strip_delimiter(false)
        .fail_fast(false)
        .netty_exact()
        .build()
        .unwrap();
    assert_eq!(d.delimiters(), [&b"\r\n"[..], b"\n"]);
    assert_eq!(d.max_frame_length(), 9);
    assert!(!d.strip_delimiter() && !d.fail_fast());
    // Netty decodes "\r\n" + "\n" with its line decoder, which goes on after an
    // error in the same read.
    assert!(d.drop_partial_at_eof() && !d.stop_at_first_error());
    let d = DelimiterDecoder::builder()
        .nul_delimiter()
        .netty_exact()
        .build()
        .unwrap();
    assert!(d.drop_partial_at_eof() && d.stop_at_first_error());
    let d = DelimiterDecoder::builder()
        .line_delimiters()
        .netty_exact()
        .stop_at_first_error(true)
        .build()
        .unwrap();
    assert!(d.stop_at_first_error(), "an explicit setting wins");
}

#[test]
fn line_and_fixed_decoders() {
    let d = LineDecoder::builder()
        .max_frame_length(7)
        .strip_delimiter(false)
        .build()
        .unwrap();
    assert_eq!(d.max_frame_length(), 7);
    assert!(!d.strip_delimiter() && d.fail_fast());
    assert_eq!(LineDecoder::new(7).max_frame_length(), 7);

    assert_eq!(
        FixedLengthDecoder::builder()
            .frame_length(0)
            .build()
            .unwrap_err(),
        invalid(InvalidConfig::ZeroFrameLength)
    );
    let d = FixedLengthDecoder::builder()
        .frame_length(3)
        .netty_exact()
        .build()
        .unwrap();
    assert_eq!(d.frame_length(), 3);
    assert!(d.drop_partial_at_eof());
}

#[test]
fn prepender_refuses_bad_widths() {
    for length in [0, 5, 6, 7, 9] {
        assert_eq!(
            LengthFieldPrepender::builder()
                .length_field_length(length)
                .build()
                .err(),
            Some(invalid(InvalidConfig::LengthFieldLength { length }))
        );
    }
    let p = LengthFieldPrepender::builder()
        .length_field_length(3)
        .length_adjustment(5)
        .length_includes_length_field_length(true)
        .little_endian()
        .build()
        .unwrap();
    assert_eq!(p.length_field_length(), 3);
    assert_eq!(p.length_adjustment(), 5);
    assert!(p.length_includes_length_field_length());
    assert_eq!(p.byte_order(), ByteOrder::LittleEndian);
}

#[test]
fn protocol_codecs_use_the_same_convention() {
    let d = RespCommandDecoder::builder()
        .max_bulk_length(1)
        .max_array_length(2)
        .max_inline_length(3)
        .build()
        .unwrap();
    assert_eq!(
        (
            d.max_bulk_length(),
            d.max_array_length(),
            d.max_inline_length()
        ),
        (1, 2, 3)
    );
    let d = RespValueDecoder::builder()
        .max_bulk_length(4)
        .max_array_length(5)
        .max_depth(6)
        .build()
        .unwrap();
    assert_eq!(
        (d.max_bulk_length(), d.max_array_length(), d.max_depth()),
        (4, 5, 6)
    );
    let codec = RespCodec::builder()
        .decoder(d_resp())
        .cumulation(CumulationStrategy::Compose)
        .build()
        .unwrap();
    assert_eq!(codec.decoder().max_bulk_length(), 9);
    assert_eq!(codec.cumulation(), CumulationStrategy::Compose);

    let d = HttpRequestDecoder::builder()
        .max_header_length(10)
        .max_headers(11)
        .max_body_length(12)
        .build()
        .unwrap();
    assert_eq!(
        (d.max_header_length(), d.max_headers(), d.max_body_length()),
        (10, 11, 12)
    );
    let codec = HttpServerCodec::builder()
        .decoder(d)
        .encoder(HttpResponseEncoder::builder().date(false).build().unwrap())
        .build()
        .unwrap();
    assert_eq!(codec.decoder().max_body_length(), 12);
    assert!(!codec.encoder().date());
}

fn d_resp() -> RespCommandDecoder {
    RespCommandDecoder::builder()
        .max_bulk_length(9)
        .build()
        .unwrap()
}
