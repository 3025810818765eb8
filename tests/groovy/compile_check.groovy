// Compiles Groovy sources with the real Groovy 2.4.21 compiler, in ONE process, and reports every
// file: "OK<TAB>path" or "ERROR<TAB>path<TAB>line<TAB>message" (one line per error).
//
// Usage: groovy compile_check.groovy LISTING [LIBRARY_DIR]
// LISTING holds one path per line. Files of the shared library (LIBRARY_DIR/src/** and
// LIBRARY_DIR/vars/*) are compiled together up to SEMANTIC_ANALYSIS, so their imports of
// io.pipelinelib.* classes must resolve. Every other file (Jenkinsfiles, choice scripts, test
// scripts) needs Jenkins classes that are not here, so it is parsed and converted to the AST
// (phase CONVERSION): every syntax error, such as an unclosed quote, is caught.
import org.codehaus.groovy.control.CompilationFailedException
import org.codehaus.groovy.control.CompilationUnit
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.Phases
import org.codehaus.groovy.control.messages.ExceptionMessage
import org.codehaus.groovy.control.messages.SyntaxErrorMessage

List<File> files = new File(args[0]).readLines('UTF-8').findAll { it.trim() }.collect { new File(it) }
String library = args.length > 1 ? new File(args[1]).canonicalPath : null

boolean inLibrary(File f) {
    String lib = binding.getVariable('library')
    if (lib == null) { return false }
    String p = f.canonicalPath
    return p.startsWith(lib + File.separator + 'src' + File.separator) ||
           (p.startsWith(lib + File.separator + 'vars' + File.separator) && p.endsWith('.groovy'))
}
binding.setVariable('library', library)

Map<String, List<String>> errors = new LinkedHashMap()
files.each { errors[it.canonicalPath] = [] }

def record = { CompilationUnit unit, String fallbackPath ->
    unit.errorCollector.errors?.each { msg ->
        String path = fallbackPath
        String line = '0'
        String text
        if (msg instanceof SyntaxErrorMessage) {
            def cause = msg.cause
            if (cause.sourceLocator) { path = new File(cause.sourceLocator).canonicalPath }
            line = String.valueOf(cause.line)
            text = cause.originalMessage ?: cause.message
        } else if (msg instanceof ExceptionMessage) {
            text = msg.cause.toString()
        } else {
            text = msg.toString()
        }
        if (!errors.containsKey(path)) { path = fallbackPath }
        String entry = line + '\t' + text.replaceAll('[\\r\\n\\t]+', ' ')
        if (!(entry in errors[path])) { errors[path] << entry }
    }
}

def compile = { List<File> group, int phase ->
    CompilerConfiguration config = new CompilerConfiguration()
    config.tolerance = 100
    if (library != null) {
        // The library's own classes resolve from source even when a step is compiled alone.
        config.classpathList = [library + File.separator + 'src']
    }
    CompilationUnit unit = new CompilationUnit(config)
    group.each { unit.addSource(it) }
    try {
        unit.compile(phase)
    } catch (CompilationFailedException e) {
        record(unit, group.size() == 1 ? group[0].canonicalPath : null)
        if (unit.errorCollector.errorCount == 0) {
            group.each { errors[it.canonicalPath] << ('0\t' + e.message.replaceAll('[\\r\\n\\t]+', ' ')) }
        }
    }
}

List<File> libraryFiles = files.findAll { inLibrary(it) }
if (libraryFiles) {
    compile(libraryFiles, Phases.SEMANTIC_ANALYSIS)
}
files.findAll { !inLibrary(it) }.each { compile([it], Phases.CONVERSION) }

errors.each { path, list ->
    if (list.isEmpty()) {
        println('OK\t' + path)
    } else {
        list.each { println('ERROR\t' + path + '\t' + it) }
    }
}
