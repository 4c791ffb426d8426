import AviaryCore
import Foundation
import Testing

@Suite struct JSONValidationTests {
    static let valid: [String] = [
        "{}", "[]", "0", "-0", "12", "-3.25e+10", "1E5", "0.5", "true", "false", "null", #""""#, #""héllo ✓ 𝄞""#,
        #" { "a" : [ 1 , 2.0 , { "b" : null } ] , "c" : "\u00e9\n\t\"\\\/" } "#, "[[[[]]]]", #"{"":{}}"#,
        "\n\t 7 \r\n", #"["\ud83d\ude00"]"#, "[1,[2,[3,{\"x\":[]}]]]",
    ]

    static let invalid: [String] = [
        "", " ", "{", "}", "[,1]", #"{"a"}"#, #"{"a":}"#, #"{a:1}"#, "{1:2}", "01", "-", "1.", ".5", "1e",
        "1e+", "+1", "tru", "nul", "truex", "[1 2]", #""abc"#, #""\x""#, #""\u12G4""#, "\"a\u{01}b\"", "{}{}", "[] x", "NaN",
        "Infinity", "'a'", #"{"a" 1}"#, "[1}", #"{"a":1]"#,
    ]

    @Test(arguments: valid) func acceptsWhatFoundationAccepts(_ text: String) throws {
        #expect(JSONValidation.firstFailure(in: Array(text.utf8)) == nil)
        _ = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    @Test(arguments: invalid) func refusesWhatFoundationRefuses(_ text: String) throws {
        #expect(JSONValidation.firstFailure(in: Array(text.utf8)) != nil, "\(text)")
        #expect(throws: (any Error).self) { try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) }
    }

    /// Foundation's parser lets trailing commas through; Lambda's does not.
    @Test func refusesTrailingCommas() {
        for text in ["[1,]", #"{"a":1,}"#, "[[],]"] {
            #expect(JSONValidation.firstFailure(in: Array(text.utf8)) != nil, "\(text)")
        }
    }

    @Test func refusesMalformedUTF8InStrings() {
        for bytes: [UInt8] in [
            [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xE0, 0x80, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xE2, 0x9C],
        ] {
            #expect(JSONValidation.firstFailure(in: bytes) != nil, "\(bytes)")
        }
        #expect(JSONValidation.firstFailure(in: [0x22, 0xC3, 0xA9, 0xE2, 0x9C, 0x93, 0xF0, 0x9D, 0x84, 0x9E, 0x22]) == nil)
    }

    @Test func namesWhereTheProblemIs() throws {
        let failure = try #require(JSONValidation.firstFailure(in: Array(#"{"a": tru}"#.utf8)))
        #expect(failure.offset == 9)
        #expect("\(failure)".contains("at byte 9"))
        let trailing = try #require(JSONValidation.firstFailure(in: Array("[1] x".utf8)))
        #expect(trailing.description.contains("'x'"))
    }

    @Test func deepNestingIsRefusedWithoutExhaustingTheStack() {
        let limit = JSONValidation.maxDepth
        let deepest = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(JSONValidation.firstFailure(in: Array(deepest.utf8)) == nil)
        let tooDeep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        #expect(JSONValidation.firstFailure(in: Array(tooDeep.utf8))?.reason == "Too many nested arrays or objects")
        // A hostile payload: millions of brackets, refused at the limit.
        let hostile = [UInt8](repeating: UInt8(ascii: "["), count: 5_000_000)
        #expect(JSONValidation.firstFailure(in: hostile) != nil)
    }
}
