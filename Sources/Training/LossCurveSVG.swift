import Foundation

/// Renders training and validation loss curves as a self-contained SVG picture.
public enum LossCurveSVG {
    public static func render(train: [(step: Int, loss: Double)], validation: [(step: Int, loss: Double)], title: String) -> String {
        let width = 720.0, height = 420.0, left = 60.0, right = 20.0, top = 40.0, bottom = 50.0
        let all = train + validation
        let maxStep = Double(max(1, all.map(\.step).max() ?? 1))
        let minStep = Double(all.map(\.step).min() ?? 0)
        var lo = all.map(\.loss).filter(\.isFinite).min() ?? 0
        var hi = all.map(\.loss).filter(\.isFinite).max() ?? 1
        if hi - lo < 1e-9 { hi += 0.5; lo -= 0.5 }
        let pad = (hi - lo) * 0.05
        lo -= pad; hi += pad
        func x(_ s: Int) -> Double { left + (Double(s) - minStep) / max(1, maxStep - minStep) * (width - left - right) }
        func y(_ l: Double) -> Double { top + (hi - l) / (hi - lo) * (height - top - bottom) }
        func path(_ pts: [(step: Int, loss: Double)]) -> String {
            pts.filter { $0.loss.isFinite }.enumerated().map { i, p in String(format: "%@%.1f,%.1f", i == 0 ? "M" : "L", x(p.step), y(p.loss)) }.joined(separator: " ")
        }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(width / 2))" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>
        <line x1="\(left)" y1="\(height - bottom)" x2="\(width - right)" y2="\(height - bottom)" stroke="black"/>
        <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(height - bottom)" stroke="black"/>

        """
        for i in 0...4 {
            let l = lo + (hi - lo) * Double(i) / 4
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3f</text>\n",
                          left, y(l), width - right, y(l), left - 6, y(l) + 4, l)
            let s = Int(minStep + (maxStep - minStep) * Double(i) / 4)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n", x(s), height - bottom + 18, s)
        }
        svg += "<text x=\"\(Int(width / 2))\" y=\"\(Int(height - 10))\" text-anchor=\"middle\">step</text>\n"
        svg += "<text x=\"16\" y=\"\(Int(height / 2))\" transform=\"rotate(-90 16 \(Int(height / 2)))\" text-anchor=\"middle\">loss</text>\n"
        if !train.isEmpty { svg += "<path d=\"\(path(train))\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\"/>\n" }
        if !validation.isEmpty {
            svg += "<path d=\"\(path(validation))\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>\n"
            for p in validation where p.loss.isFinite { svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#d62728\"/>\n", x(p.step), y(p.loss)) }
        }
        svg += "<rect x=\"\(width - right - 150)\" y=\"\(top)\" width=\"140\" height=\"44\" fill=\"white\" stroke=\"#999\"/>\n"
        svg += "<line x1=\"\(width - right - 140)\" y1=\"\(top + 15)\" x2=\"\(width - right - 115)\" y2=\"\(top + 15)\" stroke=\"#1f77b4\" stroke-width=\"2\"/><text x=\"\(width - right - 108)\" y=\"\(top + 19)\">train</text>\n"
        svg += "<line x1=\"\(width - right - 140)\" y1=\"\(top + 33)\" x2=\"\(width - right - 115)\" y2=\"\(top + 33)\" stroke=\"#d62728\" stroke-width=\"2\"/><text x=\"\(width - right - 108)\" y=\"\(top + 37)\">validation</text>\n"
        svg += "</svg>\n"
        return svg
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
