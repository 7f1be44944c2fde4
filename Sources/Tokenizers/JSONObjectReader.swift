import Foundation

/// Typed, checked access to one object of a parsed JSON file. Every failure is a
/// `TokenizerError.invalidField` naming the file and the key path (e.g. `model.vocab`).
///
/// A key whose value is JSON `null` counts as absent.
struct JSONObjectReader {
    /// The object's members.
    let object: [String: Any]
    /// The file (or description) the JSON came from.
    let source: String
    /// The key path of this object within the file ("" for the top level).
    let path: String

    /// Parses `data` as JSON whose top level must be an object.
    static func parse(_ data: Data, source: String) throws -> JSONObjectReader {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw TokenizerError.malformedFile(source: source, reason: "not valid JSON (\(error.localizedDescription))")
        }
        guard let object = value as? [String: Any] else {
            throw TokenizerError.malformedFile(source: source, reason: "the top level of the JSON is not an object")
        }
        return JSONObjectReader(object: object, source: source, path: "")
    }

    /// The key path of member `key`.
    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// An error about member `key`.
    func fieldError(_ key: String, _ reason: String) -> TokenizerError {
        .invalidField(source: source, key: keyPath(key), reason: reason)
    }

    /// The value of `key`, or nil when it is absent or null.
    func value(_ key: String) -> Any? {
        guard let v = object[key], !(v is NSNull) else { return nil }
        return v
    }

    /// Whether `key` is present with a non-null value.
    func has(_ key: String) -> Bool { value(key) != nil }

    func string(_ key: String) throws -> String {
        guard let v = value(key) else { throw fieldError(key, "missing") }
        guard let s = v as? String else { throw fieldError(key, "expected a string") }
        return s
    }

    func optionalString(_ key: String) throws -> String? {
        guard has(key) else { return nil }
        return try string(key)
    }

    func bool(_ key: String, default defaultValue: Bool? = nil) throws -> Bool {
        guard let v = value(key) else {
            if let defaultValue { return defaultValue }
            throw fieldError(key, "missing")
        }
        guard Self.isBoolean(v), let b = v as? Bool else { throw fieldError(key, "expected true or false") }
        return b
    }

    func int(_ key: String) throws -> Int {
        guard let v = value(key) else { throw fieldError(key, "missing") }
        guard let i = Self.integer(v) else { throw fieldError(key, "expected an integer") }
        return i
    }

    func object(_ key: String) throws -> JSONObjectReader {
        guard let v = value(key) else { throw fieldError(key, "missing") }
        return try Self.object(v, source: source, path: keyPath(key))
    }

    func optionalObject(_ key: String) throws -> JSONObjectReader? {
        guard has(key) else { return nil }
        return try object(key)
    }

    func array(_ key: String) throws -> [Any] {
        guard let v = value(key) else { throw fieldError(key, "missing") }
        guard let a = v as? [Any] else { throw fieldError(key, "expected an array") }
        return a
    }

    /// `value` as an object reader at `path`.
    static func object(_ value: Any, source: String, path: String) throws -> JSONObjectReader {
        guard let o = value as? [String: Any] else {
            throw TokenizerError.invalidField(source: source, key: path, reason: "expected an object")
        }
        return JSONObjectReader(object: o, source: source, path: path)
    }

    /// Whether `value` is JSON `true` or `false`. (Foundation parses JSON numbers and booleans
    /// alike to `NSNumber`, and a number converts to `Bool`, so the boxed type must be checked.)
    static func isBoolean(_ value: Any) -> Bool {
        if let n = value as? NSNumber {
            let type = n.objCType   // "c" (char) for booleans
            return type[0] == 0x63 && type[1] == 0
        }
        return value is Bool
    }

    /// `value` as an exact integer (not a fraction, not true/false), or nil.
    static func integer(_ value: Any) -> Int? {
        if isBoolean(value) { return nil }
        if let i = value as? Int { return i }
        if let d = value as? Double, d == d.rounded(), let i = Int(exactly: d) { return i }
        return nil
    }
}
