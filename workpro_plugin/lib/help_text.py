"""The default usage hints ("Hinweise zur Bedienung") behind the red "i" button.

Derived from the WorkPro-SMP user guide; editors can change it on the help page
of their institution in the CMS.
"""

DEFAULT_HELP_HTML = """
<h2>WorkPro – Hinweise zur Bedienung</h2>
<p>WorkPro erreichen Sie über die Buttons <b>Angebote</b> (die Angebote der Einrichtung) und <b>Mein Konto</b> (Anmeldefenster für Teilnehmer) oben rechts auf jeder Seite.</p>
<h3 id="datenschutz">Datenschutz und Anmeldung</h3>
<p>Alle Daten werden auf Servern des Trägers gehalten und verschlüsselt übertragen. Alle Mitarbeiter sind zum Datenschutz verpflichtet. Zugesandte oder angeforderte Passwörter verfallen nach 72 Stunden; fordern Sie dann ein neues an.</p>
<p>Haben Sie Ihre registrierte Mailadresse vergessen oder möchten Sie künftig eine andere verwenden:</p>
<ul>
<li>die Anmeldemaske nicht ausfüllen, sondern <b>Neues Passwort anfordern</b>;</li>
<li>die angezeigte Maske zur Überprüfung Ihrer Daten nutzen und mit <b>Diese Angaben sind korrekt</b> bestätigen;</li>
<li>ein Passwort zur bestätigten Mailadresse wird per SMS an Ihre hinterlegte Handynummer gesendet;</li>
<li>gibt es diese Handynummer nicht, nehmen Sie bitte Kontakt zur Einrichtung auf.</li>
</ul>
<p>Ist der Nutzer des Angebots (<b>Teilnehmer</b>) unter 18 Jahre alt, tritt ein Personensorgeberechtigter (PSB1) für ihn ein; er ist alleiniger Ansprechpartner. Soll der Teilnehmer Plattformen, Bibliotheken oder die Kommunikation selbst nutzen, ordnet PSB1 ihm eine eigene Mailadresse zu. 30 Tage nach dem 18. Geburtstag nutzt der Teilnehmer WorkPro allein.</p>
<p>Dokumente gelten als zugestellt, wenn sie in WorkPro hinterlegt wurden.</p>
<h3>Informieren und Angebote nutzen</h3>
<ol>
<li>Unter <b>Angebote</b> ein Angebot auswählen und sich mit Name, Vorname und Mailadresse <b>registrieren</b>. Sie erhalten ein Passwort und Hinweise per Mail.</li>
<li>Mit Mailadresse und Passwort über <b>Mein Konto</b> anmelden, die Informationen zum Angebot lesen (ggf. chatten) und einen Teilnehmer <b>Zum Angebot anmelden</b>. Der Teilnehmer erhält einmalig eine <b>Kundennummer</b>, die Maßnahme eine <b>Vertragsnummer</b>.</li>
<li>Die angezeigten Aktionen ausführen, <b>Anmeldung drucken</b> (die Anzeige kann wenige Sekunden dauern) und, wenn alles stimmt, <b>Anmeldung absenden</b>. Status: <b>Bewerber</b>. Falsche Angaben über das Menü (drei Querstriche oben links) korrigieren und erneut drucken.</li>
<li>Ein Mitarbeiter prüft die Bewerbung und lädt zum persönlichen Gespräch ein. Status: <b>Eingeladen</b>. Danach wird entschieden. Status: <b>Kandidat</b> oder <b>Abgelehnt</b>.</li>
<li>Als Kandidat die restlichen Aktionen ausführen, die Anmeldung erneut drucken und absenden. Status: <b>Eingestuft</b>.</li>
<li>Sie erhalten ein unterschriebenes <b>Angebot</b>. Zum <b>Angebot annehmen</b> ausdrucken, <b>durch alle Vertragsparteien unterzeichnen</b> lassen und den Scan bis zum <b>angegebenen Termin</b> in WorkPro hinterlegen. Status: <b>Angenommen</b>.</li>
<li>Nach Prüfung wird der Vertrag gegengezeichnet. Status: <b>Ratifiziert</b>. Erst dann ist der Vertrag zustande gekommen.</li>
</ol>
<p>Bei Teilnehmern unter 18 Jahren vor Vertragsbeginn unter <b>Mein Konto</b> beim Vertrag <b>Notfallkontakt</b> und <b>Abholberechtigte</b> eintragen; für Abholberechtigte muss ein aktuelles Passbild hinterlegt sein.</p>
<h3>Mein Konto</h3>
<ul>
<li><b>alle Verträge</b> verwalten,</li>
<li>per <b>Chat</b> Kontakt zu Mitarbeitern aufnehmen,</li>
<li><b>Anmeldungen</b> ab dem Status „Interessent“ weiterbearbeiten,</li>
<li>zugewiesene und angenommene <b>Anwendungen</b> nutzen,</li>
<li><b>Zusatzangebote</b> zu abgeschlossenen Verträgen buchen.</li>
</ul>
""".strip()
