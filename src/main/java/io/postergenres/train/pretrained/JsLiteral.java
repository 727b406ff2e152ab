package io.postergenres.train.pretrained;

import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the data object literal of a minified JavaScript module into JSON, for {@link TfjsWeights}
 * reading nsfwjs' {@code model.min.js}. Handles what a minifier writes in plain data: unquoted keys,
 * single-quoted strings, {@code !0}/{@code !1} for true/false, {@code void 0} for undefined, and
 * numbers without a leading zero ({@code .5}, {@code -.5}). Not a JavaScript parser: anything else
 * (functions, expressions) is left alone and then fails as JSON.
 */
final class JsLiteral {
  private JsLiteral() {}

  private static final Pattern EXPORT = Pattern.compile("exports\\s*=\\s*\\{");

  /** The object literal {@code exports={...}} of a module, braces included. */
  static String exportedObject(String js) throws IOException {
    Matcher m = EXPORT.matcher(js);
    if (!m.find()) throw new IOException("no 'exports={' object in the module");
    int start = m.end() - 1;
    int depth = 0;
    char quote = 0;
    for (int i = start; i < js.length(); i++) {
      char c = js.charAt(i);
      if (quote != 0) {
        if (c == '\\') i++;
        else if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '{' || c == '[') {
        depth++;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return js.substring(start, i + 1);
      }
    }
    throw new IOException("the exported object is not closed");
  }

  /** JSON text for a JavaScript data literal. */
  static String toJson(String s) {
    StringBuilder out = new StringBuilder(s.length() + s.length() / 8);
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\'') {
        char quote = c;
        out.append('"');
        for (i++; i < n && s.charAt(i) != quote; i++) {
          char d = s.charAt(i);
          if (d == '\\') {
            char e = s.charAt(++i);
            if (e == '\'') out.append('\'');
            else out.append('\\').append(e);
          } else if (d == '"') {
            out.append("\\\"");
          } else {
            out.append(d);
          }
        }
        out.append('"');
      } else if (c == '!' && i + 1 < n && (s.charAt(i + 1) == '0' || s.charAt(i + 1) == '1')) {
        out.append(s.charAt(i + 1) == '0' ? "true" : "false");
        i++;
      } else if (c == '.' && i + 1 < n && Character.isDigit(s.charAt(i + 1)) && (i == 0 || !Character.isDigit(s.charAt(i - 1)))) {
        out.append("0.");
      } else if (Character.isLetter(c) || c == '_' || c == '$') {
        int j = i;
        while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_' || s.charAt(j) == '$')) j++;
        String word = s.substring(i, j);
        int k = j;
        while (k < n && Character.isWhitespace(s.charAt(k))) k++;
        boolean partOfNumber = i > 0 && (Character.isDigit(s.charAt(i - 1)) || s.charAt(i - 1) == '.')
            && (word.startsWith("e") || word.startsWith("E"));
        if (partOfNumber) {
          out.append(word);
        } else if (k < n && s.charAt(k) == ':') {
          out.append('"').append(word).append('"');
        } else if (word.equals("void") && s.startsWith("0", k)) {
          out.append("null");
          j = k + 1;
        } else if (word.equals("undefined")) {
          out.append("null");
        } else {
          out.append(word);
        }
        i = j - 1;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
