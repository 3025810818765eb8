// Loads env.groovy files the way a Jenkins `load` step does: the script runs with `env` bound,
// here to a plain map. Prints one line per variable: FILE <TAB> KEY <TAB> UTF-16 code units in hex,
// so the Python side can compare every value exactly. A file that fails to compile or run prints
// FILE <TAB> !ERROR <TAB> the message, and the batch goes on.
def list = new File(args[0])
list.eachLine('UTF-8') { path ->
    def env = new LinkedHashMap()
    def binding = new Binding()
    binding.setVariable('env', env)
    try {
        new GroovyShell(binding).evaluate(new File(path))
        env.each { k, v ->
            def hex = (v as String).collect { String.format('%04x', (int) (it as char)) }.join('')
            println(path + '\t' + k + '\t' + hex)
        }
    } catch (Throwable t) {
        println(path + '\t!ERROR\t' + t.toString().replaceAll('[\\r\\n\\t]', ' '))
    }
}
