# Polski. Klucze takie same jak w en.ftl (sprawdza to test).

## Pages
page-title-integration = Kontakty Google
page-title-filter = Synchronizacja z Kontaktami Google
section-accounts = Konta Google
section-bindings = Synchronizowane filtry
section-sync = Kontakty Google
section-status = Synchronizacja z Kontaktami Google
section-options = Ustawienia
section-health = Kontakty wymagające uwagi
google-unusable = Nie można użyć Google: { $reason }

## Accounts
col-account = Konto
col-state = Stan
account-connected = połączone
account-reconnect-needed = wymaga ponownego połączenia
reconnect-warning = Google odrzucił logowanie dla { $account }. Połącz konto ponownie; do tego czasu jego synchronizacje są wstrzymane.
disconnect-label = Odłącz { $account }
disconnect-confirm = Odłączyć to konto Google? Jego synchronizacje zostaną zatrzymane; żaden kontakt nie zostanie usunięty.
connect-google = Połącz konto Google
connect-another = Połącz kolejne konto Google

## Synced filters
col-filter = Filtr
col-group = Grupa
col-direction = Kierunek
col-last-sync = Ostatnia synchronizacja
col-sync = Synchronizacja
filter-fallback-name = filtr { $id }
last-sync-never = nigdy
sync-on = wł.
sync-off = wył.

## Activation and the enable form
activate-intro = Trzymaj kontakty tego filtra w grupie Kontaktów Google, w obie strony.
activate-button = Synchronizuj ten filtr z Kontaktami Google
connect-intro = Połącz konto Google, w którego kontaktach mają się znaleźć kontakty tego filtra.
input-account = Konto Google
view-only-note = Możesz tylko przeglądać kontakty, więc ten filtr synchronizuje się tylko z CRM do Google.
enable-submit = Włącz synchronizację
input-group-mode = Grupa Google
group-filter-name-choice = Grupa o nazwie filtra
group-existing-choice = Istniejąca grupa
group-my-contacts = Moje kontakty
input-group-name = Nazwa istniejącej grupy
input-group-name-help = Tylko dla opcji „Istniejąca grupa”.
input-direction = Kierunek
direction-two-way-choice = W obie strony
direction-crm-to-google = CRM → Google
direction-google-to-crm = Google → CRM
input-policy = Gdy kontakt zmieniono po obu stronach
policy-latest-choice = Wygrywa najnowsza zmiana
policy-crm-choice = Wygrywa CRM
policy-google-choice = Wygrywa Google
input-delete-mode = Gdy kontakt zostanie usunięty w CRM
delete-choice = Usuń go w Google
remove-choice = Tylko usuń go z grupy
delete-help = Kontakt usunięty w Google nigdy nie jest usuwany w CRM.
input-interval = Sprawdzaj Google co (minut)
input-custom-fields = Więcej pól
input-custom-fields-help = Klucze własnych pól CRM oddzielone przecinkami; w Google pojawią się jako pola własne.

## The enabled panel
fact-account = Konto Google
fact-group = Grupa
fact-direction = Kierunek
fact-conflicts = Konflikty
fact-deleted = Usunięte w CRM
fact-interval = Sprawdzanie Google co
fact-last-sync = Ostatnia synchronizacja
fact-last-run = Ostatnie uruchomienie
fact-failing = Kontakty z błędami
interval-minutes = { $count } min
not-yet = jeszcze nie
reconnect-paused = Google odrzucił logowanie dla { $account }. Połącz konto ponownie na stronie integracji; ta synchronizacja jest wstrzymana.
last-run-stopped = Ostatnie uruchomienie zatrzymało się: { $error }
syncing = Synchronizacja
removals-held = To uruchomienie usunęłoby z Google naraz { $removals } z { $contacts ->
    [one] { $contacts } kontaktu
   *[other] { $contacts } kontaktów
}. Nic nie usunięto: potwierdź, jeśli tak ma być.
confirm-removals = Potwierdź usunięcie
confirm-removals-question = Usunąć te kontakty z Google?
sync-now = Synchronizuj teraz
turn-off = Wyłącz synchronizację
turn-off-confirm = Wyłączyć synchronizację? Żaden kontakt nie zostanie usunięty po żadnej stronie.
save-options = Zapisz ustawienia
col-contact = Kontakt
col-reason = Powód
health-excluded = wykluczony
health-failing = błąd
reason-left-in-google = Usunięty w Google lub wyjęty tam z grupy. Zostaje w CRM i nie jest już synchronizowany z tą grupą.
reason-limit = Google pozwala na najwyżej { $limit } kontaktów na konto, a to konto jest pełne. Usuń kontakty w Google albo zawęź filtr.
reason-waiting = Czekamy, aż Google pokaże kontakt utworzony wcześniej.
group-named-after = o nazwie filtra
group-quoted = „{ $name }”
direction-two-way = w obie strony
policy-latest = wygrywa najnowsza zmiana
policy-crm = wygrywa CRM
policy-google = wygrywa Google
deleted-in-google = usuwane w Google
removed-from-group = usuwane z grupy
run-counts = w Google: utworzono { $createdGoogle }, zaktualizowano { $updatedGoogle }; w CRM: utworzono { $createdCrm }, zaktualizowano { $updatedCrm }; usunięto w Google: { $deletedGoogle }; usunięto z grupy: { $removed }; odłączono: { $unlinked }; konflikty: { $conflicts }; błędy: { $errors }
contacts-count = { $count ->
    [one] { $count } kontakt
    [few] { $count } kontakty
   *[many] { $count } kontaktów
}

## Action outcomes
outcome-disabled = Synchronizacja wyłączona. Żaden kontakt nie został usunięty po żadnej stronie.
outcome-sync-started = Synchronizacja rozpoczęta.
outcome-removals-confirmed = Potwierdzono; usuwanie jest w toku.
unknown-action = Nieznana czynność „{ $name }”.
not-a-filter-id = „{ $value }” nie jest numerem filtra.
needs-filter = Ta czynność wymaga filtra.
continue-on-google = Przejdź na stronę Google, aby zezwolić na dostęp do kontaktów.
connected = Połączono konto Google { $account }.
account-not-yours = To konto Google nie jest połączone z twoim użytkownikiem CRM.
disconnected = Odłączono { $account }. Jego synchronizacje są wyłączone; żaden kontakt nie został usunięty.
choose-options = Wybierz konto Google i ustawienia, a potem włącz synchronizację.
choose-account = Wybierz jedno z połączonych kont Google (albo najpierw połącz konto).
enabled = Synchronizacja włączona; pierwsze uruchomienie się rozpoczęło.
enabled-view-only = Synchronizacja włączona; pierwsze uruchomienie się rozpoczęło. Możesz tylko przeglądać kontakty, więc synchronizacja działa tylko z CRM do Google.
options-saved = Ustawienia zapisane; rozpoczęto synchronizację z nowymi ustawieniami.
sync-not-enabled = Synchronizacja nie jest włączona dla tego filtra.

## Refusals
refusal-not-saved = Ten filtr nie jest zapisany. Zapisz go, a potem włącz synchronizację z Kontaktami Google.
refusal-not-author = Tylko autor filtra może go synchronizować z Kontaktami Google.
refusal-plan = Twój plan nie obejmuje synchronizacji z Kontaktami Google. Poproś administratora CRM o zmianę planu.
refusal-no-permission = Nie masz uprawnień do kontaktów, więc nie ma czego synchronizować.
refusal-no-filter = Ten filtr już nie istnieje.
refusal-no-user = Nie znaleziono twojego użytkownika CRM.
refusal-host = Nie udało się uzyskać odpowiedzi z CRM: { $reason }

## Option errors
options-not-a-choice = „{ $value }” to niepoprawna wartość pola „{ $what }”; wybierz jedną z: { $choices }.
what-direction = kierunek
what-policy = zasada konfliktów
what-delete-mode = działanie przy usunięciu
what-group = wybór grupy
options-interval = Odstęp synchronizacji musi być całkowitą liczbą minut od 1 do 1440, a nie „{ $value }”.
options-group-missing = Wpisz nazwę grupy Google.
options-group-too-long = Nazwa grupy jest za długa (najwyżej 200 znaków).
options-custom-field = „{ $value }” nie jest kluczem pola CRM: użyj liter, cyfr, „_”, „-” lub „.”, najwyżej 64 znaki.

## Google's answers
google-not-connected = Konto Google { $email } nie jest połączone. Połącz je w ustawieniach integracji.
google-reconnect = Google odrzucił logowanie dla { $email } (dostęp cofnięto lub wygasł). Połącz konto ponownie w ustawieniach integracji.
google-scope-missing = Google nie przyznał dostępu do kontaktów { $email }. Połącz konto ponownie i pozostaw zaznaczony dostęp do kontaktów.
google-scope-insufficient = Połączenie z { $email } nie ma dostępu do kontaktów. Połącz konto ponownie w ustawieniach integracji i zezwól na dostęp do kontaktów.
google-consent-denied = Google nie połączył konta ({ $error }). Spróbuj połączyć ponownie i zezwól na dostęp.
google-state-unknown = Ten link logowania Google jest nieznany lub został już użyty. Zacznij łączenie konta od nowa.
google-state-expired = Logowanie Google trwało za długo i wygasło. Zacznij łączenie konta od nowa.
google-state-wrong-user = To logowanie Google rozpoczął inny użytkownik CRM. Połącz konto samodzielnie.
google-token-refused = Usługa logowania Google odrzuciła żądanie ({ $code }). Sprawdź google.client_id i google.client_secret w ustawieniach wtyczki, a potem połącz konto ponownie.
google-unavailable = Nie udało się połączyć z Google lub Google nadal zwracał błędy po { $attempts } próbach ({ $detail }). Synchronizacja spróbuje ponownie później.

## Times
month-1 = stycznia
month-2 = lutego
month-3 = marca
month-4 = kwietnia
month-5 = maja
month-6 = czerwca
month-7 = lipca
month-8 = sierpnia
month-9 = września
month-10 = października
month-11 = listopada
month-12 = grudnia
date-time = { $day } { $month } { $year }, { $time }
ago-now = przed chwilą
ago-minutes = { $count ->
    [one] { $count } minutę temu
    [few] { $count } minuty temu
   *[many] { $count } minut temu
}
ago-hours = { $count ->
    [one] { $count } godzinę temu
    [few] { $count } godziny temu
   *[many] { $count } godzin temu
}
ago-with-time = { $ago } ({ $time })

## Notices
notice-reconnect-title = Połącz ponownie { $account } z Kontaktami Google
notice-reconnect-body = Google odrzucił logowanie dla { $account }, więc jego synchronizacje są wstrzymane. Połącz konto ponownie na stronie integracji z Kontaktami Google.
notice-held-title = Usunięcia z Google czekają na ciebie
notice-held-body = Synchronizacja filtra „{ $filter }” usunęłaby z Google naraz { $removals } z { $contacts ->
    [one] { $contacts } kontaktu
   *[other] { $contacts } kontaktów
}. Nic nie usunięto: otwórz panel synchronizacji filtra i potwierdź, jeśli tak ma być.
notice-limit-title = Osiągnięto limit kontaktów Google
notice-limit-body = Synchronizacja filtra „{ $filter }” zatrzymała się: { $error }
notice-failing-title = { $count ->
    [one] { $count } kontakt nie synchronizuje się od ponad doby
    [few] { $count } kontakty nie synchronizują się od ponad doby
   *[many] { $count } kontaktów nie synchronizuje się od ponad doby
}
notice-failing-body = Niektóre kontakty filtra „{ $filter }” nie synchronizują się od ponad doby. Panel synchronizacji filtra pokazuje je z powodem.
notice-stale-title = Filtr „{ $filter }” nie synchronizował się od ponad doby
notice-stale-body = Ostatnia udana synchronizacja: { $when }. Otwórz panel synchronizacji filtra, aby sprawdzić dlaczego.
notice-stale-never = Synchronizację włączono ponad dobę temu i jeszcze ani razu się nie udała. Otwórz panel synchronizacji filtra, aby sprawdzić dlaczego.

## Preview
section-preview = Podgląd
preview-button = Podgląd następnego przebiegu
input-preview-first = Najpierw podgląd
input-preview-first-help = Zobacz, co zrobi pierwsza synchronizacja, zanim cokolwiek zostanie zapisane; włączysz ją z podglądu.
preview-started = Podgląd powstaje z pełnej listy Google; ta strona pokaże go, gdy będzie gotowy. Po żadnej stronie nic nie jest zapisywane.
preview-running = Odczyt Google do podglądu: na razie { $listed } kontaktów. Po żadnej stronie nic nie jest zapisywane.
preview-failed = Podgląd się nie udał: { $error }
preview-intro = Co zrobiłby przebieg teraz. Po żadnej stronie nic nie zapisano; jeśli coś zmieni się przed przebiegiem, przebieg pójdzie za tym, co będzie wtedy.
fact-preview-totals = Razem
fact-preview-listed = Odczytane kontakty Google
fact-preview-in-filter = Kontakty w filtrze
fact-preview-held = Usunięcia czekające na potwierdzenie
col-what = Co się stanie
col-field = Pole
col-old = Teraz
col-new = Po przebiegu
preview-page = Strona { $page } z { $pages }
preview-prev = Poprzednia strona
preview-next = Następna strona
enable-previewed = Włącz jak w podglądzie
run-previewed = Synchronizuj teraz jak w podglądzie
discard-preview = Odrzuć podgląd
preview-discarded = Podgląd odrzucono.
no-preview = Nie ma gotowego podglądu tego filtra; najpierw go utwórz.
enabled-as-previewed = Synchronizację włączono jak w podglądzie. Pierwszy przebieg pójdzie za kontaktami takimi, jakie będą wtedy; ta strona powie, czy zrobił to, co pokazał podgląd.
started-as-previewed = Synchronizację uruchomiono jak w podglądzie; ta strona powie, czy przebieg zrobił to, co pokazał podgląd.
preview-kept = Przebieg po podglądzie zrobił to, co pokazał podgląd.
preview-differed = Przebieg po podglądzie zrobił co innego, bo kontakty zmieniły się po którejś stronie. Podgląd: { $preview }. Przebieg: { $run }.
what-create = Utworzony w Google
what-match = Dopasowany do istniejącego kontaktu Google po: { $by }
match-by-crm-id = id w CRM
match-by-email = e-mail
match-by-phone = telefon
match-by-rejoined = powrót do grupy
what-update = Zaktualizowany
what-add-to-group = Dodany do grupy
what-import = Zaimportowany do CRM
what-remove = Usunięty z grupy
what-delete = Usunięty w Google
what-delete-copy = Duplikat usunięty w Google
what-unlink = Powiązanie usunięte; CRM go zachowuje
what-excluded = Zostawiony w Google (usunięty lub wyjęty z grupy tam); CRM go zachowuje
what-refused = Nie jest synchronizowany: { $reason }
side-google = w Google
side-crm = w CRM
change-field = { $field } { $side }
change-conflict = { $field } { $side } (zmienione po obu stronach; rozstrzygnięte regułą)

## History
section-history = Ostatnie zmiany
col-when = Kiedy
col-side = Strona
col-before = Przed
col-after = Po
col-why = Dlaczego
col-run = Przebieg
input-history-contact = Id kontaktu
input-history-side = Strona
input-history-run = Przebieg
history-any-side = Obie strony
history-side-google = Google
history-side-crm = CRM
history-filter-submit = Pokaż
history-not-a-number = Kontakt i przebieg to liczby; zostaw je puste, by pokazać wszystko.
history-created = utworzony
history-matched = dopasowany do istniejącego kontaktu
history-updated = zaktualizowany
history-added-to-group = dodany do grupy
history-imported = zaimportowany
history-removed-from-group = usunięty z grupy
history-deleted = usunięty
why-edited-in-crm = zmieniony w CRM
why-edited-in-google = zmieniony w Google
why-conflict = zmieniony po obu stronach; rozstrzygnięte regułą
why-new-in-filter = w filtrze
why-found-in-google = znaleziony w Google
why-added-in-google = dodany do grupy w Google
why-left-filter = opuścił filtr lub użytkownik już go nie widzi
why-deleted-in-crm = usunięty w CRM
why-duplicate = duplikat kontaktu utworzonego przez wtyczkę
col-change = Zmiana
undo-run = Cofnij przebieg { $run }
undo-run-confirm = Przywrócić to, co ten przebieg zmienił po obu stronach? Pola zmienione od tego czasu zostają; nic nie jest usuwane.
undo-change-submit = Cofnij tę zmianę
input-undo-change = Numer zmiany
undo-started = Cofanie trwa; ta strona pokaże, co zrobiono.
undo-running = Cofanie…
undo-failed = Cofanie zatrzymało się: { $error }
undo-done = Cofnięto: przywrócono { $restored } (następna synchronizacja przeniesie je na drugą stronę), pozostawiono { $kept }.
kept-changed-since = zmienione od tego czasu, zostawione
kept-gone = już nie istnieje
kept-import = import: kontakt CRM zostaje (cofanie nigdy nie usuwa kontaktów CRM)
kept-in-filter = kontakt jest w filtrze, więc zostaje synchronizowany
kept-duplicate = duplikat; nie jest tworzony ponownie
history-export = Eksportuj do CSV
section-contact-history = Synchronizacja z Kontaktami Google: historia
contact-history-in-filter = Zmiany wprowadzone przez synchronizację „{ $filter }”
contact-history-none = Synchronizacja nie zmieniła jeszcze niczego w tym kontakcie.
